package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"
)

// The first admin can be created in the browser while serve runs (the
// embedded store allows one process, so the command line cannot): serve
// prints a setup code in its log when no admin exists, and /admin/setup
// takes it once. Guesses at the code count like login guesses.

// noAdmin reports whether the console has no user yet.
func (c *Console) noAdmin(ctx context.Context) bool {
	ids, err := c.Store.ListRecords(ctx, KindAdmin, "", 1)
	return err == nil && len(ids) == 0
}

func (c *Console) setupPage(w http.ResponseWriter, r *http.Request) {
	if c.SetupCode == "" || !c.noAdmin(r.Context()) {
		http.Redirect(w, r, c.prefix()+"/login", http.StatusSeeOther)
		return
	}
	c.showSetup(w, r, "")
}

func (c *Console) showSetup(w http.ResponseWriter, r *http.Request, errText string) {
	c.renderPlain(w, "setup.html", page{Prefix: c.prefix(), CSRF: c.signedOutToken(w, r), Title: "创建第一个管理员", Error: errText}, errText != "")
}

func (c *Console) setupPost(w http.ResponseWriter, r *http.Request) {
	if !c.readSignedOutForm(w, r) {
		return
	}
	ctx := r.Context()
	if c.SetupCode == "" || !c.noAdmin(ctx) {
		http.Redirect(w, r, c.prefix()+"/login", http.StatusSeeOther)
		return
	}
	if _, err := c.guess(ctx, c.clientAddr(r), "", false); err != nil {
		c.showSetup(w, r, errLocked.Error())
		return
	}
	code := strings.TrimSpace(r.PostFormValue("code"))
	if subtle.ConstantTimeCompare([]byte(code), []byte(c.SetupCode)) != 1 {
		c.showSetup(w, r, "设置码不对：请看服务启动日志里的 setup_code")
		return
	}
	name := strings.TrimSpace(r.PostFormValue("user"))
	u := User{Name: name, Role: RoleAdmin, Created: c.now()}
	if len(name) > MaxNameLen {
		c.showSetup(w, r, "用户名太长")
		return
	}
	// (two setups sent at once with the right code both create their
	// admin: whoever holds the code is entitled to)
	if err := CreateUser(ctx, c.Store, u, r.PostFormValue("password")); err != nil {
		msg := "用户名不能为空，也不能有空格或斜杠"
		if errors.Is(err, ErrWeakPassword) {
			msg = "密码至少 10 个字符"
		}
		c.showSetup(w, r, msg)
		return
	}
	created, _ := getUser(ctx, c.Store, name)
	if err := c.startSession(ctx, w, r, created); err != nil {
		http.Redirect(w, r, c.prefix()+"/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, c.prefix()+"/", http.StatusSeeOther)
}
