package datasource_test

import (
	"encoding/json"
	"testing"

	ds "github.com/federated-customers/gateway/datasource"
)

func TestRecordKeepsItsBytesInPlace(t *testing.T) {
	body := []byte(`{"items":[ {"a": 1} ,null,"x",{"a":"no"}]}`)
	var env struct {
		Items []ds.Record[struct{ A int }] `json:"items"`
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
