package datasource

import (
	"testing"
)

// FuzzDecodeNodeID: any string a client sends as an ID is either a valid
// reference that re-encodes to itself or BAD_USER_INPUT, never a panic.
// Run longer with: go test -fuzz FuzzDecodeNodeID ./datasource
func FuzzDecodeNodeID(f *testing.F) {
	for _, s := range []string{"", "x", "dGVzdA", CustomerNodeID(Kintsugi, "cust_1"), SourceNodeID(CareCloud, "a|b", `c\d`), encodeRaw("v1|c|1|x")} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		ref, err := DecodeNodeID(id)
		if err != nil {
			if ErrorCode(err) != CodeBadUserInput {
				t.Fatalf("%q: code %s, want BAD_USER_INPUT", id, ErrorCode(err))
			}
			return
		}
		var again string
		if ref.Kind == NodeSource {
			again = SourceNodeID(ref.Provider, ref.CustomerID, ref.RecordID)
		} else {
			again = CustomerNodeID(ref.Provider, ref.ProviderID)
		}
		if again != id {
			t.Fatalf("%q decodes to %+v which encodes to %q", id, ref, again)
		}
	})
}
