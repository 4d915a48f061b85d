package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/silenceper/wechat/v2/cache"

	"policybot/handlers"
)

// TokenCache implements the SDK's cache.ContextCache on our store, so that
// every instance shares one WeChat access token (the SDK's own Redis cache
// is built on go-redis v8; we use v9).
//
// The SDK's traps, handled here: it type-asserts what Get returns to
// string, so values are stored and returned as strings; and it caches the
// stable token for expires_in-300 s, which can be 0 or negative, so TTLs
// are clamped to at least MinTTL (a zero TTL would mean "forever" in Redis).
type TokenCache struct {
	Store  handlers.Sessions
	Logger *slog.Logger
	// Timeout bounds each store call made without a context; default 2 s.
	Timeout time.Duration
}

// MinTTL is the shortest time a value is cached.
const MinTTL = 30 * time.Second

var _ cache.ContextCache = (*TokenCache)(nil)

func (c *TokenCache) key(k string) string { return "wechat:" + k }

func (c *TokenCache) bg() (context.Context, context.CancelFunc) {
	t := c.Timeout
	if t <= 0 {
		t = 2 * time.Second
	}
	return context.WithTimeout(context.Background(), t)
}

// Get returns the cached string, or nil when absent or on a store error
// (the SDK then fetches a fresh token).
func (c *TokenCache) Get(key string) interface{} {
	ctx, cancel := c.bg()
	defer cancel()
	return c.GetContext(ctx, key)
}

// GetContext is Get with a context.
func (c *TokenCache) GetContext(ctx context.Context, key string) interface{} {
	v, err := c.Store.GetSession(ctx, c.key(key))
	if err != nil {
		if !errors.Is(err, handlers.ErrNotFound) && c.Logger != nil {
			c.Logger.Warn("bot: token cache read failed", "err", err)
		}
		return nil
	}
	return string(v)
}

// Set stores val (as a string) for timeout, at least MinTTL.
func (c *TokenCache) Set(key string, val interface{}, timeout time.Duration) error {
	ctx, cancel := c.bg()
	defer cancel()
	return c.SetContext(ctx, key, val, timeout)
}

// SetContext is Set with a context.
func (c *TokenCache) SetContext(ctx context.Context, key string, val interface{}, timeout time.Duration) error {
	var s string
	switch v := val.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	default:
		s = fmt.Sprint(v)
	}
	if timeout < MinTTL {
		timeout = MinTTL
	}
	if err := c.Store.PutSession(ctx, c.key(key), []byte(s), timeout); err != nil {
		return fmt.Errorf("bot: token cache: %w", err)
	}
	return nil
}

// IsExist reports whether key is cached.
func (c *TokenCache) IsExist(key string) bool {
	ctx, cancel := c.bg()
	defer cancel()
	return c.IsExistContext(ctx, key)
}

// IsExistContext is IsExist with a context.
func (c *TokenCache) IsExistContext(ctx context.Context, key string) bool {
	_, err := c.Store.GetSession(ctx, c.key(key))
	return err == nil
}

// Delete removes key (used to drop a token WeChat rejected with 40001).
func (c *TokenCache) Delete(key string) error {
	ctx, cancel := c.bg()
	defer cancel()
	return c.DeleteContext(ctx, key)
}

// DeleteContext is Delete with a context.
func (c *TokenCache) DeleteContext(ctx context.Context, key string) error {
	if err := c.Store.DeleteSession(ctx, c.key(key)); err != nil {
		return fmt.Errorf("bot: token cache: %w", err)
	}
	return nil
}
