package rest

import (
	"fmt"
	"strings"
	"unicode"

	ds "github.com/federated-customers/gateway/datasource"
)

// The checks every vendor's Config.Validate makes, so the messages (which
// name the provider and the configuration key) read the same for all.

// HeaderSafe reports whether s can go into a header as is: a credential with
// whitespace or a control character would be cut or refused on the wire.
func HeaderSafe(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// CheckHeaderValue refuses a configured value that is not HeaderSafe.
func CheckHeaderValue(p ds.ProviderID, key, value string) error {
	if !HeaderSafe(value) {
		return fmt.Errorf("%s: %s must not contain whitespace or control characters", p.Key(), key)
	}
	return nil
}

// RequireHeaderValue refuses a configured credential that is blank or not HeaderSafe.
func RequireHeaderValue(p ds.ProviderID, key, value string) error {
	if strings.TrimSpace(value) == "" {
		return fmt.Errorf("%s: %s is required", p.Key(), key)
	}
	return CheckHeaderValue(p, key, value)
}

// CheckBaseURL refuses a base_url that does not parse; an empty one is
// refused only when the vendor documents no default host (required).
func CheckBaseURL(p ds.ProviderID, s string, required bool) error {
	switch {
	case s == "" && !required:
		return nil
	case required && strings.TrimSpace(s) == "":
		return fmt.Errorf("%s: base_url is required", p.Key())
	}
	_, err := ParseBaseURL(p, s)
	return err
}
