package telness

// SetIdempotencyKeys replaces the client's idempotency-key source (tests only).
func SetIdempotencyKeys(c *Client, f func() string) { c.newKey = f }
