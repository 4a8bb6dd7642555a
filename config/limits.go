package config

import (
	"errors"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Limits bound what one request may ask for; a zero field takes its value
// from DefaultLimits. The file sets the fields with a yaml key (docs/reference.md
// lists them and their defaults); the others are fixed here (tests set them).
// The handler takes this type as is (api.Limits).
type Limits struct {
	// MaxCalls refuses a query whose estimate is over it and is, unless
	// CallBudget says otherwise, each request's run-time budget of upstream calls.
	MaxCalls   int `yaml:"max_upstream_calls"`
	CallBudget int `yaml:"-"`
	MaxDepth   int `yaml:"max_depth"`
	// MaxComplexity bounds gqlgen's complexity, list fields costing what they can fetch.
	MaxComplexity int `yaml:"max_complexity"`
	// MaxFields bounds the fields of a query once fragments are expanded.
	MaxFields int `yaml:"max_fields"`
	// MaxInFlight GraphQL requests run at once; MaxQueue more wait up to
	// QueueWait; the rest get 503.
	MaxInFlight int           `yaml:"max_in_flight"`
	MaxQueue    int           `yaml:"max_queue"`
	QueueWait   time.Duration `yaml:"-"`
	// MaxResponseBytes bounds a response's data.
	MaxResponseBytes int `yaml:"max_response_bytes"`
	// Queries likely to make more than HeavyCalls upstream calls run MaxHeavy
	// at a time; the others wait up to HeavyWait.
	HeavyCalls int           `yaml:"heavy_upstream_calls"`
	MaxHeavy   int           `yaml:"max_heavy"`
	HeavyWait  time.Duration `yaml:"-"`
	// HeavyFanOut is how many upstream calls such a query has in flight at
	// once: its scans then leave the CPU to cheap requests.
	HeavyFanOut int `yaml:"heavy_fan_out"`
	// HeavyRate is how many upstream calls such queries together start per
	// second once each has made HeavyCalls calls: it bounds the CPU their
	// scans' decoding takes when the upstream answers fast, and never binds
	// against a vendor's latency.
	HeavyRate int           `yaml:"heavy_calls_per_second"`
	Timeout   time.Duration `yaml:"-"` // per request
	// MaxBodyBytes bounds a POST body (and a GET's query string), read
	// within BodyTimeout before the request takes a slot.
	MaxBodyBytes int64         `yaml:"-"`
	BodyTimeout  time.Duration `yaml:"-"`
}

// DefaultLimits are the limits where nothing is set: the one table of them
// (docs/reference.md documents the file's). CallBudget's default is MaxCalls.
var DefaultLimits = Limits{
	MaxCalls:         1000,
	MaxDepth:         12,
	MaxComplexity:    20000,
	MaxFields:        2000,
	MaxInFlight:      32,
	MaxQueue:         32,
	QueueWait:        time.Second,
	MaxResponseBytes: 8 << 20,
	HeavyCalls:       200,
	MaxHeavy:         1,
	HeavyWait:        10 * time.Second,
	HeavyFanOut:      2,
	HeavyRate:        1000,
	Timeout:          30 * time.Second,
	MaxBodyBytes:     1 << 20,
	BodyTimeout:      5 * time.Second,
}

// WithDefaults fills every zero limit from DefaultLimits.
func (l Limits) WithDefaults() Limits {
	v, d := reflect.ValueOf(&l).Elem(), reflect.ValueOf(DefaultLimits)
	for i := range v.NumField() {
		if v.Field(i).IsZero() {
			v.Field(i).Set(d.Field(i))
		}
	}
	if l.CallBudget == 0 {
		l.CallBudget = l.MaxCalls
	}
	return l
}

// check refuses a negative limit, naming its key.
func (l Limits) check(root *yaml.Node) error {
	v, t := reflect.ValueOf(l), reflect.TypeOf(l)
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key != "-" && v.Field(i).Int() < 0 {
			return at(root, errors.New("cannot be negative"), "limits", key)
		}
	}
	return nil
}
