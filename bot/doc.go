// Package bot is the WeChat official-account adapter. Today it holds the
// access-token cache (TokenCache) that lets every instance share one token
// through the store. The callback (signatures, safe mode, dedup of
// retries), the 5-second budget with the customer-service fallback, and
// reply shaping come with issue 4. It turns WeChat messages into handlers
// calls and holds no business rules.
package bot
