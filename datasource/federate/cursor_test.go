package federate

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	ds "github.com/federated-customers/gateway/datasource"
)

func TestCursorsRejectTamperingAndForeignQueries(t *testing.T) {
	cc := CursorCodec{Key: []byte("k")}
	pos := ds.Position{Provider: ds.DigitalRiver, Token: "5823594809", Skip: 3}
	c := cc.Encode("c", "fp1", pos)
	got, err := cc.Decode("c", "fp1", c)
	if err != nil || !reflect.DeepEqual(got, pos) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	deferred := ds.Position{Provider: ds.CommerceLayer, Token: "50", Tail: true,
		Deferred: []ds.Position{{Provider: ds.DigitalRiver, Token: "5823594809", Skip: 1}, {Provider: ds.Telness}}}
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
		"negative skip": cc.Encode("c", "fp1", ds.Position{Provider: ds.Kintsugi, Skip: -1}),
		"bad provider":  cc.Encode("c", "fp1", ds.Position{Provider: 42}),
		"deferred twice": cc.Encode("c", "fp1", ds.Position{Provider: ds.Kintsugi,
			Deferred: []ds.Position{{Provider: ds.Telness}, {Provider: ds.Telness}}}),
		"deferred current":      cc.Encode("c", "fp1", ds.Position{Provider: ds.Kintsugi, Deferred: []ds.Position{{Provider: ds.Kintsugi}}}),
		"deferred bad provider": cc.Encode("c", "fp1", ds.Position{Provider: ds.Kintsugi, Deferred: []ds.Position{{Provider: 9}}}),
	} {
		fp := "fp1"
		if name == "other filter" {
			fp = "fp2"
		}
		if _, err := cc.Decode("c", fp, bad); ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

// FuzzCursorDecode: a cursor the codec did not sign is BAD_USER_INPUT; one it
// signed decodes to the position it encoded.
func FuzzCursorDecode(f *testing.F) {
	cc := CursorCodec{Key: []byte("fuzz")}
	f.Add("", "tok", 0)
	f.Add(cc.Encode("c", "fp", ds.Position{Provider: ds.Telness, Token: "abc", Skip: 2}), "x", 1)
	f.Add("djF8Y3w", "\x00", -1)
	f.Fuzz(func(t *testing.T, s, token string, skip int) {
		if _, err := cc.Decode("c", "fp", s); err != nil && ds.ErrorCode(err) != ds.CodeBadUserInput {
			t.Fatalf("%q: code %s", s, ds.ErrorCode(err))
		}
		if skip < 0 || !utf8.ValidString(token) || len(token) > 256 {
			return
		}
		pos := ds.Position{Provider: ds.DigitalRiver, Token: token, Skip: skip % 10001, Tail: skip%2 == 1,
			Deferred: []ds.Position{{Provider: ds.Telness, Token: token}}}
		got, err := cc.Decode("c", "fp", cc.Encode("c", "fp", pos))
		if err != nil || !reflect.DeepEqual(got, pos) {
			t.Fatalf("round trip of %+v: %+v, %v", pos, got, err)
		}
	})
}
