package datasource

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Global IDs are base64url("v1|<kind>|<provider>|<parts>…"). They depend only
// on the vendor's own ids, so they are stable across requests, restarts and
// replicas. The encoding is an implementation detail: clients treat them as opaque.

const (
	idVersion     = "v1"
	kindCustomer  = "c"
	kindSource    = "s"
	kindPerson    = "p"
	maxIDLength   = 1024 // security: bounds the work a hostile id can cause
	maxPartLength = 256
)

// NodeKind says what a global ID points to.
type NodeKind int

const (
	NodeCustomer NodeKind = iota + 1
	NodeSource
	// NodePerson: a person, named by their anchor record (Provider, ProviderID).
	NodePerson
)

// NodeRef is a decoded global ID.
type NodeRef struct {
	Kind       NodeKind
	Provider   ProviderID
	ProviderID string // customer: the vendor's id
	CustomerID string // source: the owning customer at the provider
	RecordID   string // source: the vendor's record id
}

// CustomerNodeID encodes the global ID of customer id at provider p.
func CustomerNodeID(p ProviderID, id string) string {
	return encodeID(kindCustomer, p, id)
}

// SourceNodeID encodes the global ID of a customer source record.
func SourceNodeID(p ProviderID, customerID, recordID string) string {
	return encodeID(kindSource, p, customerID, recordID)
}

func encodeID(kind string, p ProviderID, parts ...string) string {
	var b strings.Builder
	b.WriteString(idVersion + "|" + kind + "|" + strconv.Itoa(int(p)))
	for _, s := range parts {
		b.WriteByte('|')
		b.WriteString(escapePart(s))
	}
	return base64.RawURLEncoding.EncodeToString([]byte(b.String()))
}

// partEscaper keeps '|' inside vendor ids from splitting the ID. It is built
// once: a Replacer per call was a quarter of all bytes a walk allocated.
var partEscaper = strings.NewReplacer(`\`, `\\`, `|`, `\p`)

func escapePart(s string) string { return partEscaper.Replace(s) }

func unescapePart(s string) (string, bool) {
	if !strings.Contains(s, `\`) {
		return s, true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b.WriteByte(s[i])
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		i++
		switch s[i] {
		case '\\':
			b.WriteByte('\\')
		case 'p':
			b.WriteByte('|')
		default:
			return "", false
		}
	}
	return b.String(), true
}

// DecodeNodeID parses a global ID. Anything malformed is BAD_USER_INPUT.
func DecodeNodeID(id string) (NodeRef, error) {
	bad := func(why string) (NodeRef, error) {
		return NodeRef{}, Errorf(CodeBadUserInput, "invalid ID %s: %s", QuoteShort(id), why)
	}
	if id == "" {
		return bad("empty")
	}
	if len(id) > maxIDLength {
		return bad("too long")
	}
	// strict: one spelling per ID (no ignored newlines, no stray trailing
	// bits), so dataloader and cache keys agree.
	if strings.IndexFunc(id, func(r rune) bool { return !isBase64URL(r) }) >= 0 {
		return bad("not an ID issued by this gateway")
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(id)
	if err != nil {
		return bad("not an ID issued by this gateway")
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) < 4 || parts[0] != idVersion {
		return bad("not an ID issued by this gateway")
	}
	n, err := strconv.Atoi(parts[2])
	p := ProviderID(n)
	if err != nil || !p.Valid() || strconv.Itoa(n) != parts[2] {
		return bad("unknown provider")
	}
	vals := make([]string, 0, len(parts)-3)
	for _, s := range parts[3:] {
		v, ok := unescapePart(s)
		if !ok || v == "" || len(v) > maxPartLength {
			return bad("malformed")
		}
		if !CleanText(v) {
			return bad("holds a NUL byte or invalid UTF-8") // no vendor id does; Postgres would refuse it as a key
		}
		vals = append(vals, v)
	}
	switch {
	case parts[1] == kindCustomer && len(vals) == 1:
		return NodeRef{Kind: NodeCustomer, Provider: p, ProviderID: vals[0]}, nil
	case parts[1] == kindPerson && len(vals) == 1:
		return NodeRef{Kind: NodePerson, Provider: p, ProviderID: vals[0]}, nil
	case parts[1] == kindSource && len(vals) == 2:
		return NodeRef{Kind: NodeSource, Provider: p, CustomerID: vals[0], RecordID: vals[1]}, nil
	}
	return bad("malformed")
}

// DecodeCustomerID parses a global ID that must name a customer.
func DecodeCustomerID(id string) (CustomerKey, error) {
	ref, err := DecodeNodeID(id)
	if err != nil {
		return CustomerKey{}, err
	}
	if ref.Kind != NodeCustomer {
		return CustomerKey{}, Errorf(CodeBadUserInput, "ID %s is not a Customer ID", QuoteShort(id))
	}
	return CustomerKey{Provider: ref.Provider, ProviderID: ref.ProviderID}, nil
}

// CleanText reports whether s is valid UTF-8 without NUL bytes: what
// Postgres text holds (it refuses the whole statement otherwise), and what
// every vendor id and customer field is.
func CleanText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// QuoteShort quotes user input for an error message without echoing megabytes.
func QuoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strconv.Quote(s)
}

func isBase64URL(r rune) bool {
	return r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_'
}

// Fingerprint hashes the canonical JSON of v (a filter and order) so a cursor
// cannot be replayed against a different query.
func Fingerprint(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:6])
}
