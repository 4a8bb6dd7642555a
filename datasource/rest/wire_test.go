package rest_test

import (
	"encoding/json"
	"testing"

	"github.com/federated-customers/gateway/datasource/rest"
)

func TestRecordKeepsItsBytesInPlace(t *testing.T) {
	body := []byte(`{"items":[ {"a": 1} ,null,"x",{"a":"no"}]}`)
	var env struct {
		Items []rest.Record[struct{ A int }] `json:"items"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("a malformed item failed the envelope: %v", err)
	}
	r := env.Items
	if len(r) != 4 || string(r[0].Raw) != `{"a": 1}` || r[0].V.A != 1 || r[0].Err != nil {
		t.Fatalf("first item: %+v", r[0])
	}
	if &r[0].Raw[0] != &body[11] || cap(r[0].Raw) != len(r[0].Raw) {
		t.Fatal("Raw is a copy, or its capacity reaches into the next item")
	}
	_ = append(r[0].Raw, 'X')
	if string(body[11:20]) != `{"a": 1} ` {
		t.Fatalf("an append to Raw wrote over the body: %s", body)
	}
	if string(r[1].Raw) != "null" || r[1].Err != nil || r[1].V.A != 0 {
		t.Fatalf("null item: %+v", r[1])
	}
	if r[2].Err == nil || r[3].Err == nil || string(r[3].Raw) != `{"a":"no"}` {
		t.Fatalf("malformed items: %+v %+v", r[2], r[3])
	}
}

func TestWholeNumberReadsCountsLiberallyAndNothingElse(t *testing.T) {
	for _, tc := range []struct {
		raw    string
		quoted bool
		n      int
		ok     bool
	}{
		{`12`, false, 12, true},
		{`12.0`, false, 12, true},
		{`1.2e1`, false, 12, true},
		{`0`, false, 0, true},
		{`12.5`, false, 0, false},
		{`-1`, false, 0, false},
		{`"12"`, false, 0, false},
		{`"12"`, true, 12, true},
		{`" 3.0 "`, true, 3, true},
		{`"twelve"`, true, 0, false},
		{`null`, true, 0, false},
		{`101`, false, 0, false}, // over max
		{`1e300`, false, 0, false},
	} {
		n, ok := rest.WholeNumber([]byte(tc.raw), tc.quoted, 100)
		if n != tc.n || ok != tc.ok {
			t.Errorf("WholeNumber(%s, quoted %v) = %d, %v; want %d, %v", tc.raw, tc.quoted, n, ok, tc.n, tc.ok)
		}
	}
}
