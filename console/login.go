package console

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) { c.showLogin(w, r, "") }

func (c *Console) showLogin(w http.ResponseWriter, r *http.Request, errText string) {
	c.renderPlain(w, "login.html", page{Prefix: c.prefix(), CSRF: c.signedOutToken(w, r), Title: "登录", Error: errText,
		Data: c.SetupCode != "" && c.noAdmin(r.Context())}, errText != "")
}

// renderPlain renders a page for someone not signed in.
func (c *Console) renderPlain(w http.ResponseWriter, name string, pg page, unauthorized bool) {
	var buf bytes.Buffer
	c.tmpl.ExecuteTemplate(&buf, name, pg)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if unauthorized {
		w.WriteHeader(http.StatusUnauthorized)
	}
	w.Write(buf.Bytes())
}

// loginBytes caps a login POST: a name, a password and a token.
const loginBytes = 8 << 10

// signedOutToken gives a form for someone not signed in (login, setup)
// its CSRF token: a cookie the form must repeat.
func (c *Console) signedOutToken(w http.ResponseWriter, r *http.Request) string {
	t := token()
	http.SetCookie(w, &http.Cookie{Name: "pb_login", Value: t, Path: c.prefix(), HttpOnly: true, Secure: secure(r), SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	return t
}

// readSignedOutForm reads such a form, capped at loginBytes, and checks
// its token; on false the response is written.
func (c *Console) readSignedOutForm(w http.ResponseWriter, r *http.Request) bool {
	limitBody(w, r, loginBytes)
	if err := parseBody(r, loginBytes); err != nil {
		if errors.Is(err, errTooLarge) {
			http.Error(w, "提交的内容太大", http.StatusRequestEntityTooLarge)
			return false
		}
		http.Error(w, "表单读不出来", http.StatusBadRequest)
		return false
	}
	ck, err := r.Cookie("pb_login")
	if err != nil || r.PostFormValue("csrf") == "" || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostFormValue("csrf"))) != 1 {
		http.Error(w, "表单已过期，请刷新页面再试", http.StatusForbidden)
		return false
	}
	return true
}

func (c *Console) loginPost(w http.ResponseWriter, r *http.Request) {
	if !c.readSignedOutForm(w, r) {
		return
	}
	u, err := c.login(r.Context(), c.clientAddr(r), strings.TrimSpace(r.PostFormValue("user")), r.PostFormValue("password"))
	if err != nil {
		c.showLogin(w, r, err.Error())
		return
	}
	if err := c.startSession(r.Context(), w, r, u); err != nil {
		http.Error(w, "暂时无法登录，请稍后再试", http.StatusServiceUnavailable)
		return
	}
	http.Redirect(w, r, c.prefix()+"/", http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	c.endSession(w, r)
	http.Redirect(w, r, c.prefix()+"/login", http.StatusSeeOther)
}
