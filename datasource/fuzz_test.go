package datasource

import (
	"reflect"
	"testing"
	"unicode/utf8"
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

// FuzzCursorDecode: a cursor the codec did not sign is BAD_USER_INPUT; one it
// signed decodes to the position it encoded.
func FuzzCursorDecode(f *testing.F) {
	cc := CursorCodec{Key: []byte("fuzz")}
	f.Add("", "tok", 0)
	f.Add(cc.Encode("c", "fp", Position{Provider: Telness, Token: "abc", Skip: 2}), "x", 1)
	f.Add("djF8Y3w", "\x00", -1)
	f.Fuzz(func(t *testing.T, s, token string, skip int) {
		if _, err := cc.Decode("c", "fp", s); err != nil && ErrorCode(err) != CodeBadUserInput {
			t.Fatalf("%q: code %s", s, ErrorCode(err))
		}
		if skip < 0 || !utf8.ValidString(token) || len(token) > 256 {
			return
		}
		pos := Position{Provider: DigitalRiver, Token: token, Skip: skip % 10001, Tail: skip%2 == 1,
			Deferred: []Position{{Provider: Telness, Token: token}}}
		got, err := cc.Decode("c", "fp", cc.Encode("c", "fp", pos))
		if err != nil || !reflect.DeepEqual(got, pos) {
			t.Fatalf("round trip of %+v: %+v, %v", pos, got, err)
		}
	})
}
