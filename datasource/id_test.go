package datasource

import (
	"reflect"
	"strings"
	"testing"
)

func TestNodeIDsRoundTripAndAreStable(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    ProviderID
		id   string
	}{
		{"plain", Kintsugi, "cust_123abc"},
		{"with separator", Telness, "a|b"},
		{"with backslash", CommerceLayer, `x\p`},
		{"unicode", DigitalRiver, "zákazník"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := CustomerNodeID(tc.p, tc.id)
			if g != CustomerNodeID(tc.p, tc.id) {
				t.Fatal("not deterministic")
			}
			k, err := DecodeCustomerID(g)
			if err != nil || k.Provider != tc.p || k.ProviderID != tc.id {
				t.Fatalf("got %+v, %v", k, err)
			}
		})
	}
	src := SourceNodeID(CareCloud, "cc1", "rec|1")
	ref, err := DecodeNodeID(src)
	if err != nil || ref.Kind != NodeSource || ref.CustomerID != "cc1" || ref.RecordID != "rec|1" {
		t.Fatalf("source id: %+v %v", ref, err)
	}
	if _, err := DecodeCustomerID(src); ErrorCode(err) != CodeBadUserInput {
		t.Fatalf("a source id accepted as customer id: %v", err)
	}
}

func TestBadNodeIDsAreBadUserInput(t *testing.T) {
	for _, id := range []string{
		"", "!!!", "dGVzdA", // "test"
		CustomerNodeID(Kintsugi, "x")[:5],
		strings.Repeat("A", 5000),
		encodeRaw("v2|c|1|x"), encodeRaw("v1|c|9|x"), encodeRaw("v1|c|-1|x"), encodeRaw("v1|c|01|x"),
		encodeRaw("v1|c|1|"), encodeRaw("v1|z|1|x"), encodeRaw("v1|c|1|x|y"), encodeRaw(`v1|c|1|x\`),
	} {
		if _, err := DecodeNodeID(id); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("%.40q: err = %v", id, err)
		}
	}
}

func TestCursorsRejectTamperingAndForeignQueries(t *testing.T) {
	cc := CursorCodec{Key: []byte("k")}
	pos := Position{Provider: DigitalRiver, Token: "5823594809", Skip: 3}
	c := cc.Encode("c", "fp1", pos)
	got, err := cc.Decode("c", "fp1", c)
	if err != nil || !reflect.DeepEqual(got, pos) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	deferred := Position{Provider: CommerceLayer, Token: "50", Tail: true,
		Deferred: []Position{{Provider: DigitalRiver, Token: "5823594809", Skip: 1}, {Provider: Telness}}}
	if got, err := cc.Decode("c", "fp1", cc.Encode("c", "fp1", deferred)); err != nil || !reflect.DeepEqual(got, deferred) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	other := CursorCodec{Key: []byte("other")}.Encode("c", "fp1", pos)
	for name, bad := range map[string]string{
		"other filter":  c,
		"other key":     other,
		"flipped byte":  c[:10] + string(c[10]^1) + c[11:],
		"no signature":  strings.Split(c, ".")[0],
		"garbage":       "not-a-cursor",
		"huge":          strings.Repeat("a", 4000),
		"source cursor": cc.Encode("s", "fp1", pos),
		"negative skip": cc.Encode("c", "fp1", Position{Provider: Kintsugi, Skip: -1}),
		"bad provider":  cc.Encode("c", "fp1", Position{Provider: 42}),
		"deferred twice": cc.Encode("c", "fp1", Position{Provider: Kintsugi,
			Deferred: []Position{{Provider: Telness}, {Provider: Telness}}}),
		"deferred current":      cc.Encode("c", "fp1", Position{Provider: Kintsugi, Deferred: []Position{{Provider: Kintsugi}}}),
		"deferred bad provider": cc.Encode("c", "fp1", Position{Provider: Kintsugi, Deferred: []Position{{Provider: 9}}}),
	} {
		fp := "fp1"
		if name == "other filter" {
			fp = "fp2"
		}
		if _, err := cc.Decode("c", fp, bad); ErrorCode(err) != CodeBadUserInput {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
