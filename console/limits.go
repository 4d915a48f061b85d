package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Limits bound what a client can make the console do. The zero value of a
// field means its default (DefaultLimits).
type Limits struct {
	// FormBytes caps the body of a form POST (login, notices, FAQ…).
	FormBytes int64
	// UploadBytes caps the body of an upload (documents, roster workbooks).
	UploadBytes int64
	// Login guesses allowed in one Window: per client address over all
	// names; per account from one address (past it that address is locked
	// out of that account, other addresses are not); per account over all
	// addresses (bounds guessing spread over many addresses).
	PerAddress        int
	PerAccountAddress int
	PerAccount        int
	Window            time.Duration
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed; a request from anywhere else is keyed by its own address.
	TrustedProxies []netip.Prefix
}

// DefaultLimits are the limits used where a field is zero.
var DefaultLimits = Limits{
	FormBytes: 256 << 10, UploadBytes: 20 << 20,
	PerAddress: 20, PerAccountAddress: MaxFailures, PerAccount: 100, Window: LockFor,
}

// Longest user name and password a login form may carry.
const (
	MaxNameLen     = 64
	MaxPasswordLen = 256
)

// limits are c.Limits with DefaultLimits where a field is not positive.
func (c *Console) limits() Limits {
	l, d := c.Limits, DefaultLimits
	l.FormBytes = positiveOr(l.FormBytes, d.FormBytes)
	l.UploadBytes = positiveOr(l.UploadBytes, d.UploadBytes)
	l.PerAddress = positiveOr(l.PerAddress, d.PerAddress)
	l.PerAccountAddress = positiveOr(l.PerAccountAddress, d.PerAccountAddress)
	l.PerAccount = positiveOr(l.PerAccount, d.PerAccount)
	l.Window = positiveOr(l.Window, d.Window)
	return l
}

func positiveOr[T int | int64 | time.Duration](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// ParseProxies reads trusted proxies written as addresses or CIDR ranges.
func ParseProxies(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, errors.New("trusted_proxies: " + strconv.Quote(s) + " is not an address or a CIDR range")
		}
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// clientAddr is the address a request comes from: the peer, or, when the
// peer is a trusted proxy, the nearest address in X-Forwarded-For that is
// not one. IPv6 clients are keyed by their /64 (one household's network).
func (c *Console) clientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return "unknown"
	}
	trusted := c.limits().TrustedProxies
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	if isTrusted(addr) {
		hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
		for i := len(hops) - 1; i >= 0; i-- {
			a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
			if err != nil {
				break // a forged or broken hop: stop at the last good one
			}
			addr = a
			if !isTrusted(a) {
				break
			}
		}
	}
	addr = addr.Unmap()
	if addr.Is6() {
		p, _ := addr.Prefix(64)
		return p.String()
	}
	return addr.String()
}

// errTooLarge is shown when a body is over its limit.
var errTooLarge = errors.New("提交的内容太大")

// limitBody caps r's body at n bytes; reading past it fails and the
// connection is closed after the response.
func limitBody(w http.ResponseWriter, r *http.Request, n int64) {
	r.Body = http.MaxBytesReader(w, r.Body, n)
}

// parseBody reads a form (url-encoded or multipart) already capped by
// limitBody. Uploaded parts stay in memory: the cap bounds them.
func parseBody(r *http.Request, n int64) error {
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		err = r.ParseMultipartForm(n)
	} else {
		err = r.ParseForm()
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return errTooLarge
	}
	return err
}

// window numbers the fixed window now falls in, so the console's clock
// (not only the store's) decides when a lock ends.
func (c *Console) window(l Limits) string {
	return strconv.FormatInt(c.now().UnixNano()/int64(l.Window), 36)
}

func nameKey(name string) string {
	h := sha256.Sum256([]byte(name))
	return hex.EncodeToString(h[:8])
}

// guess takes one login guess out of every allowance that applies, before
// the password is checked, so concurrent guesses cannot all slip through.
// known says whether the name is an account: per-account counters are
// kept only for accounts, so invented names grow nothing. errLocked when
// an allowance is used up. The returned func is called after a good
// login: the guess is given back and the address's record with the
// account is cleared.
func (c *Console) guess(ctx context.Context, addr, name string, known bool) (loggedIn func(), err error) {
	l := c.limits()
	win := c.window(l)
	addrKey := "loginaddr:" + addr + ":" + win
	var pairKey, nameKeyW string
	type allowance struct {
		key string
		max int
	}
	as := []allowance{{addrKey, l.PerAddress}}
	if known {
		nk := nameKey(name)
		pairKey, nameKeyW = "loginpair:"+nk+":"+addr+":"+win, "loginname:"+nk+":"+win
		as = append(as, allowance{pairKey, l.PerAccountAddress}, allowance{nameKeyW, l.PerAccount})
	}
	for _, a := range as {
		n, err := c.Store.IncrSession(ctx, a.key, 1, l.Window)
		if err != nil {
			return nil, err
		}
		if n > int64(a.max) {
			return nil, errLocked
		}
	}
	return func() {
		c.Store.IncrSession(ctx, addrKey, -1, l.Window)
		if known {
			c.Store.IncrSession(ctx, nameKeyW, -1, l.Window)
			c.Store.DeleteSession(ctx, pairKey)
		}
	}, nil
}
