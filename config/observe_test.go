package config

import (
	"strings"
	"testing"
)

func TestLogTracingAndKeyNamesAreChecked(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"unknown log level", "log: {level: verbose}\n", `log.level "verbose"`},
		{"unknown log format", "log: {format: xml}\n", `log.format "xml"`},
		{"tracing endpoint not a URL", "tracing: {otlp_endpoint: \"collector:4318\"}\n", "tracing.otlp_endpoint"},
		{"sample ratio over 1", "tracing: {otlp_endpoint: \"http://c:4318\", sample_ratio: 1.5}\n", "tracing.sample_ratio"},
		{"unknown tracing key", "tracing: {endpoint: \"http://c:4318\"}\n", "endpoint"},
		{"a key name with spaces", "auth:\n  api_keys:\n    - {name: \"my key\", key: k}\n", `auth.api_keys[0].name "my key"`},
		{"two keys of one name", "auth:\n  api_keys:\n    - {name: bff, key: a}\n    - {name: bff, key: b}\n", "also the name of auth.api_keys[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.src))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	c, err := Parse([]byte("log: {level: debug, format: json}\ntracing: {otlp_endpoint: \"http://c:4318\", sample_ratio: 0}\nauth:\n  api_keys:\n    - {key: a}\n    - {name: bff, key: b}\n    - {key: c}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range c.Auth.APIKeys {
		names = append(names, k.Name)
	}
	if strings.Join(names, ",") != "key-1,bff,key-3" || c.Log.Level != "debug" || c.Tracing.SampleRatio == nil || *c.Tracing.SampleRatio != 0 {
		t.Fatalf("names %v, log %+v, tracing %+v", names, c.Log, c.Tracing)
	}
}
