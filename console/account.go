package console

import (
	"encoding/json"
	"net/http"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"policybot/handlers"
	"policybot/roster"
)

// accountPage shows the signed-in person's account: the phone that links
// it to their WeChat (for previews) and a password change.
func (c *Console) accountPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "account.html", "我的账号", nil, "", "")
}

// accountSave sets the account's phone and, with the current password,
// a new password.
func (c *Console) accountSave(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := state(r).user
	fail := func(msg string) { c.render(w, r, "account.html", "我的账号", nil, "", msg) }
	phone := strings.TrimSpace(r.FormValue("phone"))
	if phone != "" {
		p, ok := roster.NormalizePhone(phone)
		if !ok {
			fail("「" + phone + "」不是 11 位手机号")
			return
		}
		phone = p
	}
	u.Phone = phone
	if np := r.FormValue("new_password"); np != "" {
		if bcrypt.CompareHashAndPassword(u.Hash, []byte(r.FormValue("password"))) != nil {
			fail("当前密码不对，密码没有修改")
			return
		}
		if len([]rune(np)) < 10 || len(np) > MaxPasswordLen {
			fail("新密码至少 10 个字符")
			return
		}
		h, err := bcrypt.GenerateFromPassword([]byte(np), bcrypt.DefaultCost)
		if err != nil {
			fail("暂时无法修改，请稍后再试")
			return
		}
		u.Hash = h
	}
	b, _ := json.Marshal(u)
	if err := c.Store.PutRecord(ctx, KindAdmin, u.Name, b, handlers.IndexEntry{Name: "role", Value: u.Role}); err != nil {
		fail("暂时无法保存，请稍后再试")
		return
	}
	handlers.Audit(ctx, c.Store, u.Name, "account_save", u.Phone, c.now())
	st := state(r)
	st.user = u
	c.render(w, r.WithContext(withState(r, st)), "account.html", "我的账号", nil, "已保存", "")
}
