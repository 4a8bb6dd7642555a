package datasource

import (
	"regexp"
)

// localeRE is a BCP-47 language tag's shape (en, en-US, sv_SE, zh-Hant-TW).
var localeRE = regexp.MustCompile(`^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$`)

// CheckWriteInput checks what a write carries the way filters are checked,
// before anything is sent: a country is ISO 3166-1 alpha-2 (the form every
// vendor documents; "CZE" would be stored as is, or misread), a locale a
// BCP-47 tag. The country is upper-cased in place. "" clears a field and
// passes.
func CheckWriteInput(in *CustomerInput) error {
	if a := in.Address; a != nil && a.Country != nil && *a.Country != "" {
		u, ok := CountryCode(*a.Country)
		if !ok {
			return Errorf(CodeBadUserInput, "input.address.country %s is not an ISO 3166-1 alpha-2 code (e.g. CZ, SE, US)", QuoteShort(*a.Country))
		}
		a.Country = &u
	}
	if in.Locale != nil && *in.Locale != "" && !localeRE.MatchString(*in.Locale) {
		return Errorf(CodeBadUserInput, "input.locale %s is not a BCP-47 language tag (e.g. en-US)", QuoteShort(*in.Locale))
	}
	return nil
}

// CountryCode is c upper-cased, when it is two ASCII letters (an ISO 3166-1
// alpha-2 code's shape); filters and write input both check countries so.
func CountryCode(c string) (string, bool) {
	if len(c) != 2 || !isLetter(c[0]) || !isLetter(c[1]) {
		return "", false
	}
	return string([]byte{c[0] &^ 0x20, c[1] &^ 0x20}), true
}

func isLetter(b byte) bool { return b|0x20 >= 'a' && b|0x20 <= 'z' }
