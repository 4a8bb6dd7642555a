package carecloud

import "time"

// SetNow replaces the client's clock (token expiry, catalogue age); call it
// before the client is used.
func SetNow(c *Client, now func() time.Time) { c.now = now }
