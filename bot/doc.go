// Package bot will be the WeChat official-account adapter: the callback
// (signatures, safe mode, dedup of retries), the 5-second budget with the
// customer-service fallback, and reply shaping. It turns WeChat messages
// into handlers calls and handlers replies into WeChat replies; it holds no
// business rules. Not built yet (issue 4): nothing imports it.
package bot
