package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/credential"
	"github.com/silenceper/wechat/v2/util"

	"policybot/handlers"
	"policybot/store/embedded"
)

// fakeTokenServer answers WeChat's stable_token endpoint with the shape of
// ../shared/wechat-samples/api_responses/token.ok.official_doc.json.
func fakeTokenServer(t *testing.T, expiresIn int) (*atomic.Int64, func()) {
	t.Helper()
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cgi-bin/stable_token" {
			http.NotFound(w, r)
			return
		}
		n := hits.Add(1)
		json.NewEncoder(w).Encode(map[string]any{"access_token": "TOKEN-" + string(rune('A'-1+n)), "expires_in": expiresIn})
	}))
	util.SetURIModifier(func(uri string) string {
		return strings.Replace(uri, "https://api.weixin.qq.com", srv.URL, 1)
	})
	return &hits, func() { util.SetURIModifier(nil); srv.Close() }
}

func mustStore(t *testing.T) handlers.Store {
	t.Helper()
	s, err := embedded.Open(t.TempDir(), embedded.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestTwoInstancesShareOneToken(t *testing.T) {
	hits, stop := fakeTokenServer(t, 7200)
	defer stop()
	store := mustStore(t)
	a := credential.NewStableAccessToken("wxappid", "secret", "policybot", &TokenCache{Store: store})
	b := credential.NewStableAccessToken("wxappid", "secret", "policybot", &TokenCache{Store: store})
	ta, err := a.GetAccessToken()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.GetAccessToken()
	if err != nil {
		t.Fatal(err)
	}
	if ta != "TOKEN-A" || tb != ta {
		t.Fatalf("tokens %q and %q", ta, tb)
	}
	if hits.Load() != 1 {
		t.Fatalf("the token endpoint was called %d times for two instances", hits.Load())
	}
}

func TestZeroTTLIsClampedNotForever(t *testing.T) {
	hits, stop := fakeTokenServer(t, 300) // the SDK caches for 300-300 = 0 s
	defer stop()
	store := mustStore(t)
	c := &TokenCache{Store: store}
	h := credential.NewStableAccessToken("wxappid", "secret", "policybot", c)
	if _, err := h.GetAccessToken(); err != nil {
		t.Fatalf("a zero TTL broke the cache: %v", err)
	}
	if _, err := h.GetAccessToken(); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Fatalf("token fetched %d times: the clamped value was not cached", hits.Load())
	}
}

func TestTokenCacheContract(t *testing.T) {
	c := &TokenCache{Store: mustStore(t)}
	if c.Get("k") != nil || c.IsExist("k") {
		t.Fatal("absent key found")
	}
	if err := c.Set("k", "v", time.Minute); err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("k").(string); !ok || v != "v" {
		t.Fatalf("Get = %#v, want the string the SDK asserts", c.Get("k"))
	}
	c.Set("b", []byte("bytes"), time.Minute)
	if c.Get("b") != "bytes" {
		t.Fatalf("bytes stored as %#v", c.Get("b"))
	}
	if err := c.Delete("k"); err != nil || c.IsExist("k") {
		t.Fatalf("Delete: %v", err)
	}
	if err := c.DeleteContext(context.Background(), "never-set"); err != nil {
		t.Fatalf("deleting an absent key: %v", err)
	}
}
