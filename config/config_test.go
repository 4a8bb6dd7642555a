package config

import (
	"strings"
	"testing"
	"time"
)

func TestParseReadsTheDesignFormat(t *testing.T) {
	t.Setenv("CURSOR_SECRET", "s3cret")
	t.Setenv("FRONTEND_KEY", "fk")
	c, err := Parse([]byte(`
listen: ":9090"
cursor_secret: ${CURSOR_SECRET}
cache: {ttl: 60s, stale_if_error: 24h}
auth:
  api_keys:
    - {key: "${FRONTEND_KEY}", providers: [kintsugi, commercelayer], rate: 20, burst: 40, calls_per_minute: 600}
limits: {max_upstream_calls: 500, max_in_flight: 8, max_queue: 4, max_response_bytes: 1048576}
providers:
  telness: {simulate: true}
  kintsugi: {base_url: "https://api.trykintsugi.com", api_key: k, organization_id: o}
`))
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":9090" || c.CursorSecret != "s3cret" || c.Auth.APIKeys[0].Key != "fk" {
		t.Fatalf("parsed %+v", c)
	}
	if k := c.Auth.APIKeys[0]; k.Rate != 20 || k.Burst != 40 || k.CallsPerMinute != 600 {
		t.Fatalf("api key rate %v burst %d", k.Rate, k.Burst)
	}
	if l := c.Limits; l.MaxCalls != 500 || l.MaxInFlight != 8 || l.MaxQueue != 4 || l.MaxResponseBytes != 1<<20 {
		t.Fatalf("limits %+v", l)
	}
	if c.Cache.TTLOption() != time.Minute || time.Duration(c.Cache.StaleIfError) != 24*time.Hour {
		t.Fatalf("cache %+v", c.Cache)
	}
	if _, ok := c.Providers["digitalriver"]; ok || len(c.Providers) != 2 {
		t.Fatalf("providers %v", c.Providers)
	}
	if !Simulated(c.Providers["telness"]) || Simulated(c.Providers["kintsugi"]) {
		t.Fatal("simulate flag misread")
	}
	var kin struct {
		BaseURL string `yaml:"base_url"`
		APIKey  string `yaml:"api_key"`
		Org     string `yaml:"organization_id"`
	}
	if err := DecodeProvider(c.Providers["kintsugi"], "kintsugi", &kin); err != nil || kin.Org != "o" {
		t.Fatalf("%+v %v", kin, err)
	}
}

func TestBadConfigurationsNameWhatIsWrong(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown top-level key", "listne: x\n", "listne"},
		{"unknown provider", "providers:\n  acme: {}\n", `unknown provider "acme"`},
		{"provider by enum name instead of key", "providers:\n  DIGITAL_RIVER: {}\n", "unknown provider"},
		{"bad duration", "cache: {ttl: soon}\n", "not a duration"},
		{"negative duration", "cache: {ttl: -5s}\n", "not a duration"},
		{"not YAML", "providers: [\n", "config:"},
		{"api key from an unset variable", "auth:\n  api_keys:\n    - {key: \"${NO_SUCH_VAR_X}\"}\n", "NO_SUCH_VAR_X"},
		{"negative limit", "limits: {max_in_flight: -1}\n", "limits.max_in_flight: cannot be negative"},
		{"negative pace of costly queries", "limits: {heavy_calls_per_second: -1}\n", "limits.heavy_calls_per_second: cannot be negative"},
		{"unknown limit", "limits: {max_calls: 5}\n", "max_calls"},
		{"negative rate", "auth:\n  api_keys:\n    - {key: k, rate: -2}\n", "rate, burst and calls_per_minute cannot be negative"},
		{"api key for an unknown provider", "auth:\n  api_keys:\n    - {key: k, providers: [acme]}\n", `unknown provider "acme"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestProviderBlocksAreDecodedStrictly(t *testing.T) {
	c, err := Parse([]byte("providers:\n  telness: {base_url: x, api_kee: y}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		BaseURL string `yaml:"base_url"`
		APIKey  string `yaml:"api_key"`
	}
	err = DecodeProvider(c.Providers["telness"], "telness", &v)
	if err == nil || !strings.Contains(err.Error(), "providers.telness") || !strings.Contains(err.Error(), "api_kee") {
		t.Fatalf("err = %v", err)
	}
}

func TestANegativeLimitIsRefusedByItsKey(t *testing.T) {
	_, err := Parse([]byte("limits: {max_heavy: -1}\nproviders: {telness: {simulate: true}}\n"))
	if err == nil || !strings.Contains(err.Error(), "limits.max_heavy") || !strings.Contains(err.Error(), "cannot be negative") {
		t.Fatalf("err = %v", err)
	}
}

func TestLimitsTakeEveryUnsetFieldFromTheDefaultsTable(t *testing.T) {
	l := Limits{MaxCalls: 50, MaxDepth: 3}.WithDefaults()
	if l.MaxCalls != 50 || l.MaxDepth != 3 || l.CallBudget != 50 {
		t.Fatalf("set fields changed: %+v", l)
	}
	want := DefaultLimits
	want.MaxCalls, want.MaxDepth, want.CallBudget = 50, 3, 50
	if l != want {
		t.Fatalf("limits %+v\nwant %+v", l, want)
	}
}

func TestAnUnknownProviderIsRefusedNamingTheKnownOnes(t *testing.T) {
	_, err := Parse([]byte("providers: {stripe: {simulate: true}}\n"))
	want := `unknown provider "stripe" (want one of carecloud, kintsugi, digitalriver, telness, commercelayer)`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want it to say %s", err, want)
	}
}
