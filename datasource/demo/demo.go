// Package demo generates the deterministic demo world the simulators serve:
// a few hundred people, about half of them present at two or more providers,
// with the cross-references each vendor documents. It describes people, not
// wire formats: each vendor's simulator renders them in its own envelope.
package demo

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	ds "github.com/federated-customers/gateway/datasource"
)

// Person is one human (or business) in the demo world.
type Person struct {
	Index      int
	GivenName  string
	FamilyName string
	Company    string // set for businesses
	Email      string
	Phone      string // E.164
	Business   bool
	Locale     string // BCP-47, e.g. sv-SE
	Street1    string
	Street2    string
	City       string
	County     string
	State      string
	PostalCode string
	Country    string // ISO 3166-1 alpha-2
	CreatedAt  time.Time
	UpdatedAt  time.Time
	// IDs holds the person's vendor id at each provider that knows them;
	// CareCloud's entry is the CareCloud customer id of linked people.
	IDs map[ds.ProviderID]string
	// PaymentSourceID is a Digital River payment source attached to the customer, if any.
	PaymentSourceID string
	// Links says how the person's records can be linked across providers.
	Links LinkKind
}

// LinkKind is how a person known at several providers can be recognised.
type LinkKind int

const (
	// LinkAll: the same email everywhere, references between records and
	// CareCloud source records.
	LinkAll LinkKind = iota
	// LinkEmailOnly: the same email, no references, no CareCloud records.
	LinkEmailOnly
	// LinkReferenceOnly: references between records, a different email at
	// each provider, no CareCloud records.
	LinkReferenceOnly
	// LinkSourceRecordOnly: CareCloud source records, a different email at
	// each provider, no references.
	LinkSourceRecordOnly
)

// EmailAt is the email the person's record at provider q carries.
func (p Person) EmailAt(q ds.ProviderID) string {
	if p.Links == LinkReferenceOnly || p.Links == LinkSourceRecordOnly {
		at := strings.LastIndexByte(p.Email, '@')
		return p.Email[:at] + "+" + q.Key() + p.Email[at:]
	}
	return p.Email
}

// Name is the display name (the company for businesses).
func (p Person) Name() string {
	if p.Business {
		return p.Company
	}
	return p.GivenName + " " + p.FamilyName
}

// At reports whether the person is a customer at provider q.
func (p Person) At(q ds.ProviderID) bool { _, ok := p.IDs[q]; return ok }

// CustomerProviders are the providers with a customer list, in enum order.
var CustomerProviders = []ds.ProviderID{ds.Kintsugi, ds.DigitalRiver, ds.Telness, ds.CommerceLayer}

// Other returns the next customer provider after q (cyclically, in enum order)
// that also knows the person: what q's record cross-references.
func (p Person) Other(q ds.ProviderID) (ds.ProviderID, string, bool) {
	if p.Links == LinkEmailOnly || p.Links == LinkSourceRecordOnly {
		return 0, "", false
	}
	start := 0
	for i, c := range CustomerProviders {
		if c == q {
			start = i
		}
	}
	for k := 1; k < len(CustomerProviders); k++ {
		c := CustomerProviders[(start+k)%len(CustomerProviders)]
		if id, ok := p.IDs[c]; ok {
			return c, id, true
		}
	}
	return 0, "", false
}

// System is how CareCloud's customer-source catalogue names another provider.
type System struct {
	ID     string // customer_source_id
	Name   string
	TextID string // customer_source_text_id: the provider's config key
}

// Systems is the CareCloud source catalogue of the demo world, by provider.
var Systems = map[ds.ProviderID]System{
	ds.Kintsugi:      {ID: "86e05d6f1a2b3c4d5e6f7a8b9c", Name: "Kintsugi", TextID: "kintsugi"},
	ds.DigitalRiver:  {ID: "86e05d6f1a2b3c4d5e6f7a8b9d", Name: "Digital River", TextID: "digitalriver"},
	ds.Telness:       {ID: "86e05d6f1a2b3c4d5e6f7a8b9e", Name: "Telness Connect", TextID: "telness"},
	ds.CommerceLayer: {ID: "86e05d6f1a2b3c4d5e6f7a8b9f", Name: "Commerce Layer", TextID: "commercelayer"},
}

// DefaultSize is the number of people in the demo world.
const DefaultSize = 300

var (
	given   = []string{"Anna", "Erik", "Lena", "Jonas", "Maja", "Oskar", "Sara", "Karl", "Eva", "Petr", "Jana", "Tomas", "Olivia", "Liam", "Emma", "Noah", "Ava", "Lucas", "Mia", "Hugo", "Zoe", "Felix", "Ida", "Leo"}
	family  = []string{"Andersson", "Novak", "Svoboda", "Johansson", "Smith", "Garcia", "Müller", "Dvořák", "Lindqvist", "Brown", "Nilsson", "Kowalski", "O'Brien", "Martin", "Chen", "Patel", "Berg", "Horák"}
	company = []string{"Acme", "Nordic Fiber", "Brno Labs", "Blue Harbor", "Vltava Trading", "Öresund Logistics", "Sierra Tools", "Maple & Co", "Kestrel Systems", "Granite Works"}
	places  = []struct{ city, county, state, zip, country, locale, phone string }{
		{"Stockholm", "Stockholms län", "AB", "11122", "SE", "sv-SE", "+46"},
		{"Göteborg", "Västra Götaland", "O", "41101", "SE", "sv-SE", "+46"},
		{"Prague", "Praha", "PR", "11000", "CZ", "cs-CZ", "+420"},
		{"Brno", "Jihomoravský kraj", "JM", "60200", "CZ", "cs-CZ", "+420"},
		{"San Francisco", "San Francisco County", "CA", "94105", "US", "en-US", "+1"},
		{"Minneapolis", "Hennepin County", "MN", "55401", "US", "en-US", "+1"},
		{"Natick", "Middlesex County", "MA", "01701", "US", "en-US", "+1"},
		{"Berlin", "Berlin", "BE", "10115", "DE", "de-DE", "+49"},
		{"Toronto", "Toronto", "ON", "M5H 2N2", "CA", "en-CA", "+1"},
		{"London", "Greater London", "", "EC1A 1BB", "GB", "en-GB", "+44"},
	}
	streets = []string{"Main Street", "Storgatan", "Vodičkova", "Kungsgatan", "Market Street", "Hauptstraße", "Queen Street", "High Street"}
)

// People returns the demo world of n people. It is deterministic: the same n
// gives the same people, ids and cross-references on every machine.
func People(n int) []Person {
	r := rand.New(rand.NewPCG(20261123, uint64(n)))
	epoch := time.Date(2021, 1, 4, 9, 0, 0, 0, time.UTC)
	out := make([]Person, n)
	for i := range out {
		pl := places[r.IntN(len(places))]
		p := Person{
			Index:      i,
			GivenName:  given[r.IntN(len(given))],
			FamilyName: family[r.IntN(len(family))],
			Business:   r.IntN(5) == 0,
			Locale:     pl.locale,
			Street1:    fmt.Sprintf("%d %s", 1+r.IntN(400), streets[r.IntN(len(streets))]),
			City:       pl.city,
			County:     pl.county,
			State:      pl.state,
			PostalCode: pl.zip,
			Country:    pl.country,
			Phone:      fmt.Sprintf("%s%d", pl.phone, 700000000+r.IntN(99999999)),
			IDs:        map[ds.ProviderID]string{},
		}
		if r.IntN(4) == 0 {
			p.Street2 = fmt.Sprintf("Apt %d", 1+r.IntN(40))
		}
		if p.Business {
			p.Company = company[r.IntN(len(company))] + " " + []string{"AB", "s.r.o.", "Inc", "GmbH", "Ltd"}[r.IntN(5)]
		}
		local := strings.ToLower(asciiFold(p.GivenName) + "." + asciiFold(p.FamilyName))
		p.Email = fmt.Sprintf("%s.%d@example.com", local, i)
		p.CreatedAt = epoch.Add(time.Duration(i)*37*time.Hour + time.Duration(r.IntN(3600))*time.Second)
		p.UpdatedAt = p.CreatedAt.Add(time.Duration(r.IntN(900)) * time.Hour)

		// Half the people are at one provider, half at two to four.
		count := 1
		if i%2 == 0 {
			count = 2 + r.IntN(3)
		}
		for _, k := range r.Perm(len(CustomerProviders))[:count] {
			prov := CustomerProviders[k]
			p.IDs[prov] = vendorID(prov, i, r)
		}
		if count >= 2 {
			p.IDs[ds.CareCloud] = hexID(r, 26)
		}
		if p.At(ds.DigitalRiver) && r.IntN(3) == 0 {
			p.PaymentSourceID = uuid(r)
		}
		// Every tenth person of each kind is linkable one way only (drawn
		// from the index, so the random draws above stay as they were).
		if count >= 2 {
			switch i % 10 {
			case 0:
				p.Links = LinkEmailOnly
			case 2:
				p.Links = LinkReferenceOnly
			case 4:
				p.Links = LinkSourceRecordOnly
			}
			if p.Links == LinkEmailOnly || p.Links == LinkReferenceOnly {
				delete(p.IDs, ds.CareCloud)
			}
		}
		out[i] = p
	}
	return out
}

func vendorID(p ds.ProviderID, i int, r *rand.Rand) string {
	switch p {
	case ds.Kintsugi:
		return "cust_" + alnum(r, 12, "0123456789abcdefghijklmnopqrstuvwxyz")
	case ds.DigitalRiver:
		return fmt.Sprintf("58%08d", 23594809+i*7919)
	case ds.Telness:
		return uuid(r)
	case ds.CommerceLayer:
		return alnum(r, 10, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
	}
	return hexID(r, 26)
}

func alnum(r *rand.Rand, n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func hexID(r *rand.Rand, n int) string { return alnum(r, n, "0123456789abcdef") }

func uuid(r *rand.Rand) string {
	h := hexID(r, 32)
	return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
}

var folder = strings.NewReplacer("ü", "u", "ř", "r", "á", "a", "'", "", "Ö", "O", "ö", "o", "Ø", "O")

func asciiFold(s string) string {
	return folder.Replace(s)
}
