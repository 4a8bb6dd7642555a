package resolvers

import (
	"encoding/json"
	"net/mail"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/federate"
	"github.com/federated-customers/gateway/graph/model"
)

func toFilter(f *model.CustomerFilter) (ds.Filter, error) {
	if f == nil {
		return ds.Filter{}, nil
	}
	out := ds.Filter{Providers: f.Providers, Email: f.Email, Search: f.Search, Country: f.Country}
	if f.Providers != nil && len(f.Providers) == 0 {
		return out, ds.Errorf(ds.CodeBadUserInput, "filter.providers must name at least one provider (omit it for all)")
	}
	if len(f.Ids) > federate.MaxFilterIDs {
		return out, ds.Errorf(ds.CodeBadUserInput, "filter.ids takes at most %d ids, got %d", federate.MaxFilterIDs, len(f.Ids))
	}
	if f.Ids != nil && len(f.Ids) == 0 {
		return out, ds.Errorf(ds.CodeBadUserInput, "filter.ids must name at least one id")
	}
	seen := make(map[ds.CustomerKey]bool, len(f.Ids))
	for _, id := range f.Ids {
		k, err := ds.DecodeCustomerID(id)
		if err != nil {
			return out, err
		}
		if !seen[k] { // a duplicate id gives its customer once
			seen[k] = true
			out.IDs = append(out.IDs, k)
		}
	}
	return out, nil
}

func toOrder(o *model.CustomerOrder) *ds.Order {
	if o == nil {
		return nil
	}
	return &ds.Order{Field: ds.OrderField(o.Field), Descending: o.Direction == model.OrderDirectionDesc}
}

func toSourceFilter(f *model.CustomerSourceFilter) (ds.SourceFilter, error) {
	if f == nil {
		return ds.SourceFilter{}, nil
	}
	if f.ExternalIds != nil && len(f.ExternalIds) == 0 {
		return ds.SourceFilter{}, ds.Errorf(ds.CodeBadUserInput, "filter.externalIds must name at least one id (omit it for all)")
	}
	return ds.SourceFilter{CustomerID: f.CustomerID, SourceID: f.SourceID, ExternalIDs: f.ExternalIds}, nil
}

func toAddress(a *model.AddressInput) *ds.Address {
	if a == nil {
		return nil
	}
	return &ds.Address{Line1: a.Line1, Line2: a.Line2, City: a.City, County: a.County, State: a.State, PostalCode: a.PostalCode, Country: a.Country}
}

// toInput validates a create/update input; bad input never reaches a provider.
func toInput(email, name, phone, locale *string, typ *ds.CustomerType, addr *model.AddressInput, metadata json.RawMessage) (ds.CustomerInput, error) {
	in := ds.CustomerInput{Email: email, Name: name, Phone: phone, Type: typ, Locale: locale, Address: toAddress(addr)}
	if email != nil {
		if a, err := mail.ParseAddress(*email); err != nil || a.Address != *email || len(*email) > 254 {
			return in, ds.Errorf(ds.CodeBadUserInput, "input.email %q is not an email address", *email)
		}
	}
	for field, v := range map[string]*string{"name": name, "phone": phone, "locale": locale} {
		if v != nil && len(*v) > 256 {
			return in, ds.Errorf(ds.CodeBadUserInput, "input.%s is longer than 256 bytes", field)
		}
	}
	if err := ds.CheckWriteInput(&in); err != nil {
		return in, err
	}
	if len(metadata) > 0 && string(metadata) != "null" {
		if err := json.Unmarshal(metadata, &in.Metadata); err != nil || in.Metadata == nil {
			return in, ds.Errorf(ds.CodeBadUserInput, "input.metadata must be a JSON object")
		}
	}
	return in, nil
}
