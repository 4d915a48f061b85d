// Package console is the officials' web console under /admin: login with
// bcrypt-hashed passwords, sessions in the store, CSRF tokens on every
// form, lockout after repeated failures, roles (admin; official scoped to
// a town or village), and the pages: dashboard, unanswered questions,
// rosters and invites, deliveries, audit log. Server-rendered with
// html/template; every asset (Chart.js included) is embedded and served
// from here, no CDN.
package console

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"policybot/handlers"
)

// Roles of console users.
const (
	RoleAdmin    = "admin"    // everything
	RoleOfficial = "official" // read, within their town or village
)

// KindAdmin holds console users (id: user name).
const KindAdmin = "admin"

// User is a console account.
type User struct {
	Name    string `json:"name"`
	Hash    []byte `json:"hash"` // bcrypt
	Role    string `json:"role"`
	Town    string `json:"town,omitempty"`    // officials: their scope
	Village string `json:"village,omitempty"` // empty: the whole town
	// Phone links the account to a roster person, for previews to the
	// official's own WeChat.
	Phone   string    `json:"phone,omitempty"`
	Created time.Time `json:"created"`
}

// Lockout: this many failed logins in a row lock a name for LockFor.
const (
	MaxFailures = 5
	LockFor     = 15 * time.Minute
	sessionTTL  = 12 * time.Hour
	cookieName  = "pb_admin"
)

// ErrWeakPassword: at least 10 characters.
var ErrWeakPassword = errors.New("password: at least 10 characters")

// HasAccount reports whether any console account exists (none: the
// first is created on the setup page).
func HasAccount(ctx context.Context, rec handlers.Records) (bool, error) {
	ids, err := rec.ListRecords(ctx, KindAdmin, "", 1)
	return len(ids) > 0, err
}

// CreateUser adds (or replaces) a console user.
func CreateUser(ctx context.Context, rec handlers.Records, u User, password string) error {
	if len([]rune(password)) < 10 {
		return ErrWeakPassword
	}
	if u.Name == "" || strings.ContainsAny(u.Name, " \t\n/") {
		return fmt.Errorf("user name %q: no spaces or slashes", u.Name)
	}
	if u.Role != RoleAdmin && u.Role != RoleOfficial {
		return fmt.Errorf("role %q is not admin or official", u.Role)
	}
	if u.Role == RoleOfficial && u.Town == "" {
		return errors.New("an official needs a town (--town): they see and send only for it")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return err
	}
	u.Hash = h
	b, _ := json.Marshal(u)
	return rec.PutRecord(ctx, KindAdmin, u.Name, b, handlers.IndexEntry{Name: "role", Value: u.Role})
}

func getUser(ctx context.Context, rec handlers.Records, name string) (User, error) {
	b, err := rec.GetRecord(ctx, KindAdmin, name)
	if err != nil {
		return User{}, err
	}
	var u User
	return u, json.Unmarshal(b, &u)
}

type session struct {
	User    string    `json:"user"`
	CSRF    string    `json:"csrf"`
	Expires time.Time `json:"expires"`
}

func token() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// dummyHash makes a login for an unknown name cost what a known one does.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password at all"), bcrypt.DefaultCost)

// login checks a name and password. Every guess is counted before the
// password is checked (see guess): at most Limits.PerAccountAddress
// guesses at one account from one address, PerAddress from one address in
// all, PerAccount at one account from everywhere, per Window. It returns
// the user, or an error whose text may be shown.
func (c *Console) login(ctx context.Context, addr, name, password string) (User, error) {
	if name == "" || len(name) > MaxNameLen || len(password) > MaxPasswordLen {
		return User{}, errBadLogin // nothing is stored for such a name
	}
	u, err := getUser(ctx, c.Store, name)
	known := err == nil
	if err != nil && !errors.Is(err, handlers.ErrNotFound) {
		return User{}, errUnavailable
	}
	loggedIn, err := c.guess(ctx, addr, name, known)
	if errors.Is(err, errLocked) {
		return User{}, errLocked
	}
	if err != nil {
		c.log().Error("console: login throttle unavailable", "err", err)
		return User{}, errUnavailable
	}
	hash := u.Hash
	if !known {
		hash = dummyHash // an unknown name costs what a known one does
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || !known {
		handlers.Audit(ctx, c.Store, name, "login_failed", addr, c.now())
		return User{}, errBadLogin
	}
	loggedIn()
	handlers.Audit(ctx, c.Store, name, "login", addr, c.now())
	return u, nil
}

var (
	errBadLogin = errors.New("用户名或密码不对")
	errLocked   = errors.New("尝试次数太多，请 15 分钟后再试")
	// errUnavailable: the store cannot count guesses; no guess is checked
	// uncounted.
	errUnavailable = errors.New("暂时无法登录，请稍后再试")
)

func (c *Console) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u User) error {
	id := token()
	s := session{User: u.Name, CSRF: token(), Expires: c.now().Add(sessionTTL)}
	b, _ := json.Marshal(s)
	if err := c.Store.PutSession(ctx, "adminsess:"+id, b, sessionTTL); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: c.prefix(), HttpOnly: true, Secure: secure(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(sessionTTL.Seconds())})
	return nil
}

// secure: the cookie is Secure when the console is reached over TLS
// (directly or behind a proxy that says so).
func secure(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// current returns the session's user and CSRF token, or ok=false.
func (c *Console) current(r *http.Request) (User, session, bool) {
	ck, err := r.Cookie(cookieName)
	if err != nil || ck.Value == "" {
		return User{}, session{}, false
	}
	b, err := c.Store.GetSession(r.Context(), "adminsess:"+ck.Value)
	if err != nil {
		return User{}, session{}, false
	}
	var s session
	if json.Unmarshal(b, &s) != nil || c.now().After(s.Expires) {
		return User{}, session{}, false
	}
	u, err := getUser(r.Context(), c.Store, s.User)
	if err != nil {
		return User{}, session{}, false
	}
	return u, s, true
}

func (c *Console) endSession(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(cookieName); err == nil {
		c.Store.DeleteSession(r.Context(), "adminsess:"+ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: c.prefix(), MaxAge: -1, HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode})
}

func csrfOK(r *http.Request, s session) bool {
	got := r.FormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.CSRF)) == 1
}
