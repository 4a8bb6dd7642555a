package datasource

import (
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
