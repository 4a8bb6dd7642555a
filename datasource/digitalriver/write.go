package digitalriver

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"regexp"
	"strings"

	ds "github.com/federated-customers/gateway/datasource"
	"github.com/federated-customers/gateway/datasource/rest"
)

// CreateCustomer is POST /customers (201 Customer) with an id the gateway
// chooses, as Digital River allows: derived from the caller's idempotency
// key (ds.WriteKey), else random. The id makes the create safe to repeat: a
// second POST with it is 409, never a second customer, so the create is
// retried like a read, and a create whose answer was lost is reconciled by
// reading that id (see reconcileCreate).
func (c *Client) CreateCustomer(ctx context.Context, in ds.CustomerInput) (*ds.Customer, error) {
	body, err := customerBody(in)
	if err != nil {
		return nil, err
	}
	if in.Name != nil || in.Phone != nil || in.Address != nil {
		body["shipping"] = mergeShipping(nil, in)
	}
	key, _ := ds.WriteKey(ctx)
	id := ds.NewWriteID(key, createdIDPrefix)
	body["id"] = id
	cu, err := c.writeCustomer(ctx, "/customers", body)
	if err == nil {
		return cu, nil
	}
	return c.reconcileCreate(ctx, id, in, err)
}

// createdIDPrefix marks the ids of customers the gateway created.
const createdIDPrefix = "gw"

// reconcileCreate settles a create that failed with err: a 409 on the
// chosen id (an earlier attempt, or an earlier request with the same
// idempotency key, created it) or a lost answer. The customer with that id,
// if it is there and shows the input, is the answer; else the error, with
// NOT_APPLIED when the read says it is not there, UNCERTAIN when the read
// fails too.
func (c *Client) reconcileCreate(ctx context.Context, id string, in ds.CustomerInput, err error) (*ds.Customer, error) {
	var e *ds.Error
	conflict := errors.As(err, &e) && e.Status == http.StatusConflict
	if !conflict && !ds.AnswerLost(err) {
		return nil, err
	}
	cu, rerr := c.readBack(ctx, id)
	switch {
	case rerr != nil && ds.ErrorCode(rerr) == ds.CodeNotFound:
		if conflict {
			return nil, err
		}
		return nil, ds.WithOutcome(err, ds.AbsentOutcome(err))
	case rerr != nil:
		if conflict {
			return nil, rerr
		}
		return nil, ds.WithOutcome(err, ds.OutcomeUncertain)
	case ds.InputApplied(in, cu):
		return cu, nil
	case conflict:
		return nil, err // someone else's customer holds the id
	}
	return nil, ds.WithOutcome(err, ds.OutcomeUncertain)
}

// readBack is GET /customers/{id}, mapped.
func (c *Client) readBack(ctx context.Context, id string) (*ds.Customer, error) {
	raw, err := c.getRaw(ctx, id)
	if err != nil {
		return nil, err
	}
	return rest.MapOne(raw, mapRecord)
}

// UpdateCustomer is POST /customers/{id} (200 Customer); nil fields are left
// unchanged. Name, phone and address live in the shipping object, which the
// update replaces as a whole, so the client reads the record first and sends
// the current shipping object with only those fields changed (keeping its
// email and organization). A non-nil Address replaces the address as a unit.
func (c *Client) UpdateCustomer(ctx context.Context, id string, in ds.CustomerInput) (*ds.Customer, error) {
	if err := checkPathID(id); err != nil {
		return nil, badCustomerID(id, err)
	}
	body, err := customerBody(in)
	if err != nil {
		return nil, err
	}
	if in.Name != nil || in.Phone != nil || in.Address != nil {
		raw, err := c.getRaw(ctx, id)
		if err != nil {
			return nil, err
		}
		var cur struct {
			Shipping map[string]json.RawMessage `json:"shipping"`
		}
		if err := json.Unmarshal(raw, &cur); err != nil {
			return nil, unreadable("a customer record that is not a JSON object")
		}
		body["shipping"] = mergeShipping(cur.Shipping, in)
	}
	cu, err := c.writeCustomer(ctx, "/customers/"+id, body)
	if err == nil || !ds.AnswerLost(err) {
		return cu, err
	}
	// The answer was lost: read the customer back and compare.
	got, rerr := c.readBack(ctx, id)
	return rest.ReadBackUpdate(err, in, []*ds.Customer{got}, rerr)
}

// DeleteCustomer is DELETE /customers/{id} (204); an unknown id is NOT_FOUND.
func (c *Client) DeleteCustomer(ctx context.Context, id string) error {
	if err := checkPathID(id); err != nil {
		return badCustomerID(id, err)
	}
	_, err := c.rc.Do(ctx, rest.Request{Method: http.MethodDelete, Path: "/customers/" + id}, nil)
	if err == nil || !ds.AnswerLost(err) {
		return err
	}
	// The answer was lost: the customer being gone says the delete happened.
	_, rerr := c.getRaw(ctx, id)
	return rest.ReadBackDelete(err, ds.ErrorCode(rerr) == ds.CodeNotFound, rerr)
}

// AttachSource is POST /customers/{id}/sources/{sourceId} (200 Source). The
// docs give it no body, but every request carries Content-Type:
// application/json, and a JSON parser given that type and no body fails:
// it sends an empty object.
func (c *Client) AttachSource(ctx context.Context, customerID, sourceID string) (*ds.CustomerSource, error) {
	if err := c.checkSourcePath(customerID, sourceID); err != nil {
		return nil, err
	}
	var raw json.RawMessage
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodPost, Path: "/customers/" + customerID + "/sources/" + sourceID, Body: struct{}{}}, &raw); err != nil {
		if !ds.AnswerLost(err) {
			return nil, err
		}
		// The answer was lost: the customer's sources say whether it happened.
		src, found, rerr := c.attachedSource(ctx, customerID, sourceID)
		switch {
		case rerr != nil:
			return nil, ds.WithOutcome(err, ds.OutcomeUncertain)
		case found:
			return mapSource(src, customerID)
		}
		return nil, ds.WithOutcome(err, ds.AbsentOutcome(err))
	}
	return mapSource(raw, customerID)
}

// attachedSource reads the customer and finds source id among its sources.
func (c *Client) attachedSource(ctx context.Context, customerID, sourceID string) (json.RawMessage, bool, error) {
	raw, err := c.getRaw(ctx, customerID)
	if err != nil {
		return nil, false, err
	}
	var cur struct {
		Sources []json.RawMessage `json:"sources"`
	}
	if err := json.Unmarshal(raw, &cur); err != nil {
		return nil, false, unreadable("a customer record that is not a JSON object")
	}
	for _, s := range cur.Sources {
		var id struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(s, &id) == nil && id.ID == sourceID {
			return s, true, nil
		}
	}
	return nil, false, nil
}

// DetachSource is DELETE /customers/{id}/sources/{sourceId} (204).
func (c *Client) DetachSource(ctx context.Context, customerID, sourceID string) error {
	if err := c.checkSourcePath(customerID, sourceID); err != nil {
		return err
	}
	_, err := c.rc.Do(ctx, rest.Request{Method: http.MethodDelete, Path: "/customers/" + customerID + "/sources/" + sourceID}, nil)
	if err == nil || !ds.AnswerLost(err) {
		return err
	}
	// The answer was lost: the source gone from the customer says it happened.
	_, found, rerr := c.attachedSource(ctx, customerID, sourceID)
	return rest.ReadBackDelete(err, rerr == nil && !found, rerr)
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func (c *Client) checkSourcePath(customerID, sourceID string) error {
	if err := checkPathID(customerID); err != nil {
		return badCustomerID(customerID, err)
	}
	if !uuidRE.MatchString(sourceID) {
		return ds.Errorf(ds.CodeBadUserInput, "sourceId %s is not a %s source id (a uuid)", quoteShort(sourceID), ds.DigitalRiver)
	}
	return nil
}

func (c *Client) writeCustomer(ctx context.Context, path string, body map[string]any) (*ds.Customer, error) {
	var raw json.RawMessage
	// Idempotent: a create carries the id it makes, and an update the same
	// fields each time, so sending either twice cannot apply it twice.
	if _, err := c.rc.Do(ctx, rest.Request{Method: http.MethodPost, Path: path, Body: body, Idempotent: true}, &raw); err != nil {
		return nil, err
	}
	if len(raw) == 0 {
		return nil, unreadable("an empty customer")
	}
	return rest.MapOne(raw, mapRecord)
}

// customerBody maps the top-level fields of in (everything but shipping).
func customerBody(in ds.CustomerInput) (map[string]any, error) {
	body := map[string]any{}
	if in.Email != nil {
		body["email"] = *in.Email
	}
	if in.Type != nil {
		switch *in.Type {
		case ds.Individual:
			body["type"] = "individual"
		case ds.Business:
			body["type"] = "business"
		default:
			return nil, ds.Errorf(ds.CodeBadUserInput, "%q is not a valid CustomerType", string(*in.Type))
		}
	}
	if in.Locale != nil {
		body["locale"] = wireLocale(*in.Locale)
	}
	if in.Metadata != nil {
		for k, v := range in.Metadata {
			if !metadataValue(v) {
				return nil, ds.Errorf(ds.CodeBadUserInput, "input.metadata.%s: %s metadata values are strings, booleans or integers", quoteShort(k), ds.DigitalRiver)
			}
		}
		body["metadata"] = in.Metadata
	}
	return body, nil
}

// metadataValue: Digital River documents metadata values as string, bool or int.
func metadataValue(v any) bool {
	switch x := v.(type) {
	case string, bool, int, int32, int64:
		return true
	case float64:
		return x == math.Trunc(x) && math.Abs(x) < 1<<53
	case json.Number:
		_, err := x.Int64()
		return err == nil
	}
	return false
}

// mergeShipping sets name, phone and address (when given) on the current
// shipping object, keeping every other field it has.
func mergeShipping(cur map[string]json.RawMessage, in ds.CustomerInput) map[string]any {
	out := make(map[string]any, len(cur)+3)
	for k, v := range cur {
		out[k] = v
	}
	if in.Name != nil {
		out["name"] = *in.Name
	}
	if in.Phone != nil {
		out["phone"] = *in.Phone
	}
	if in.Address != nil {
		if a := wireAddressOf(in.Address); len(a) > 0 {
			out["address"] = a
		} else {
			delete(out, "address")
		}
	}
	return out
}

// wireAddressOf maps the federated address; Digital River has no county.
func wireAddressOf(a *ds.Address) map[string]string {
	out := map[string]string{}
	set := func(k string, v *string) {
		if v != nil && *v != "" {
			out[k] = *v
		}
	}
	set("line1", a.Line1)
	set("line2", a.Line2)
	set("city", a.City)
	set("postalCode", a.PostalCode)
	set("state", a.State)
	if a.Country != nil && *a.Country != "" {
		out["country"] = strings.ToUpper(*a.Country)
	}
	return out
}

// wireLocale turns a BCP-47 tag (en-US) into Digital River's en_US form;
// anything else is passed on (underscored) for Digital River to judge.
func wireLocale(s string) string {
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '-' || r == '_' })
	if len(parts) == 2 && len(parts[0]) == 2 && len(parts[1]) == 2 {
		return strings.ToLower(parts[0]) + "_" + strings.ToUpper(parts[1])
	}
	return strings.ReplaceAll(s, "-", "_")
}
