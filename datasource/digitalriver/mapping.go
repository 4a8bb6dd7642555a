package digitalriver

import (
	"encoding/json"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// wireCustomer is the part of Digital River's Customer object the gateway maps.
type wireCustomer struct {
	ID          string         `json:"id"`
	Email       string         `json:"email"`
	Shipping    *wireShipping  `json:"shipping"`
	Sources     []wireSource   `json:"sources"`
	Type        string         `json:"type"`
	Locale      string         `json:"locale"`
	Enabled     *bool          `json:"enabled"`
	Metadata    map[string]any `json:"metadata"`
	CreatedTime string         `json:"createdTime"`
	UpdatedTime string         `json:"updatedTime"`
}

type wireShipping struct {
	Name    string       `json:"name"`
	Phone   string       `json:"phone"`
	Address *wireAddress `json:"address"`
}

type wireAddress struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2"`
	City       string `json:"city"`
	PostalCode string `json:"postalCode"`
	State      string `json:"state"`
	Country    string `json:"country"`
}

// wireSource is the part of a Source object the gateway maps.
type wireSource struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	CustomerID string `json:"customerId"`
}

// mapRecord maps one decoded Customer object; Raw keeps it exactly as received.
func mapRecord(rec *rest.Record[wireCustomer]) (*ds.Customer, error) {
	if err := rec.Err; err != nil {
		return nil, unreadable("a customer record that is not a JSON object: " + err.Error())
	}
	w := &rec.V
	if w.ID == "" {
		return nil, unreadable("a customer record without an id")
	}
	c := &ds.Customer{
		Provider:   ds.DigitalRiver,
		ProviderID: w.ID,
		Email:      ds.NonEmpty(w.Email),
		Locale:     ds.NonEmpty(w.Locale),
		CreatedAt:  rest.RFC3339UTC(w.CreatedTime),
		UpdatedAt:  rest.RFC3339UTC(w.UpdatedTime),
		Raw:        rec.Raw,
	}
	if len(w.Metadata) > 0 {
		c.Metadata = w.Metadata
	}
	if s := w.Shipping; s != nil {
		c.Name, c.Phone = ds.NonEmpty(s.Name), ds.NonEmpty(s.Phone)
		if a := s.Address; a != nil {
			addr := &ds.Address{Line1: ds.NonEmpty(a.Line1), Line2: ds.NonEmpty(a.Line2), City: ds.NonEmpty(a.City),
				PostalCode: ds.NonEmpty(a.PostalCode), State: ds.NonEmpty(a.State), Country: ds.NonEmpty(a.Country)}
			if *addr != (ds.Address{}) {
				c.Address = addr
			}
		}
	}
	switch w.Type {
	case "individual":
		t := ds.Individual
		c.Type = &t
	case "business":
		t := ds.Business
		c.Type = &t
	}
	if w.Enabled != nil {
		st := "disabled"
		if *w.Enabled {
			st = "enabled"
		}
		c.Status = &st
	}
	for _, s := range w.Sources {
		if s.ID == "" {
			continue
		}
		c.Refs = append(c.Refs, ds.Ref{Kind: ds.SourcePayment, SourceID: s.ID, SourceName: s.Type, ExternalIDs: []string{s.ID}})
	}
	return c, nil
}

// mapSource maps a Source object attached to customerID.
func mapSource(raw json.RawMessage, customerID string) (*ds.CustomerSource, error) {
	var w wireSource
	if err := json.Unmarshal(raw, &w); err != nil || w.ID == "" {
		return nil, unreadable("a source that is not a Source object")
	}
	if w.CustomerID != "" {
		customerID = w.CustomerID
	}
	s := &ds.CustomerSource{
		Provider:    ds.DigitalRiver,
		Kind:        ds.SourcePayment,
		RecordID:    w.ID,
		CustomerID:  customerID,
		SourceID:    w.ID,
		SourceName:  ds.NonEmpty(w.Type),
		ExternalIDs: []string{w.ID},
		Raw:         append(json.RawMessage(nil), raw...),
	}
	return s, nil
}
