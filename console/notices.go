package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"policybot/handlers"
	"policybot/roster"
)

// scoped forces an official's audience into their town (and village).
func scoped(u User, a handlers.Audience) (handlers.Audience, error) {
	if u.Role == RoleAdmin || u.Town == "" {
		return a, nil
	}
	switch a.Kind {
	case handlers.AudienceFollowers:
		return a, fmt.Errorf("%s的账号只能发给本镇", u.Town)
	case handlers.AudiencePhones:
		return a, fmt.Errorf("%s的账号请按角色或村选择对象", u.Town)
	}
	a.Town = u.Town
	if u.Village != "" {
		a.Village = u.Village
	}
	return a, nil
}

func visible(u User, n handlers.Notice) bool {
	if u.Role == RoleAdmin || u.Town == "" {
		return true
	}
	return n.Audience.Town == u.Town && (u.Village == "" || n.Audience.Village == u.Village)
}

type noticesData struct {
	Notices []handlers.Notice
	Roles   []string
}

func (c *Console) noticesPage(w http.ResponseWriter, r *http.Request) {
	c.renderNotices(w, r, "", "")
}

func (c *Console) renderNotices(w http.ResponseWriter, r *http.Request, flash, errText string) {
	u := state(r).user
	all, err := c.Notices.Recent(r.Context(), 50)
	if err != nil && errText == "" {
		errText = err.Error()
	}
	var d noticesData
	for _, n := range all {
		if visible(u, n) {
			d.Notices = append(d.Notices, n)
		}
	}
	d.Roles = roster.Roles
	c.render(w, r, "notices.html", "通知", d, flash, errText)
}

func (c *Console) noticeCreate(w http.ResponseWriter, r *http.Request) {
	u := state(r).user
	a := handlers.Audience{Kind: r.FormValue("kind"), Role: r.FormValue("role"), Town: strings.TrimSpace(r.FormValue("town")),
		Village: strings.TrimSpace(r.FormValue("village")), Tag: strings.TrimSpace(r.FormValue("tag"))}
	for _, l := range strings.FieldsFunc(r.FormValue("phones"), func(r rune) bool { return r == '\n' || r == ',' || r == '，' }) {
		if l = strings.TrimSpace(l); l != "" {
			a.Phones = append(a.Phones, l)
		}
	}
	a, err := scoped(u, a)
	if err != nil {
		c.renderNotices(w, r, "", err.Error())
		return
	}
	n := handlers.Notice{Title: strings.TrimSpace(r.FormValue("title")), Body: strings.TrimSpace(r.FormValue("body")),
		Link: strings.TrimSpace(r.FormValue("link")), Audience: a, Author: u.Name, Urgent: r.FormValue("urgent") != ""}
	if at := r.FormValue("send_at"); at != "" {
		t, err := time.ParseInLocation("2006-01-02T15:04", at, handlers.ChinaTime())
		if err != nil {
			c.renderNotices(w, r, "", "发送时间看不懂")
			return
		}
		n.SendAt = t
	}
	n, err = c.Notices.Create(r.Context(), n)
	if err != nil {
		c.renderNotices(w, r, "", err.Error())
		return
	}
	handlers.Audit(r.Context(), c.Store, u.Name, "notice_create", "《"+n.Title+"》 → "+n.Audience.Describe(), c.now())
	http.Redirect(w, r, c.prefix()+"/notices/view?id="+n.ID, http.StatusSeeOther)
}

type noticeView struct {
	Notice     handlers.Notice
	Recipients int
	QuotaLeft  int
	Exhausted  int
	Households bool
	Outcomes   map[string]int
	Reasons    map[string]int
	CanApprove bool
	CanSend    bool
	// WaitsUntil, when set, is when a notice sent now goes out: the end
	// of the quiet hours (a notice that is not urgent).
	WaitsUntil string
}

func (c *Console) noticeData(r *http.Request, id string) (noticeView, error) {
	ctx := r.Context()
	u := state(r).user
	n, err := c.Notices.Get(ctx, id)
	if err != nil {
		return noticeView{}, err
	}
	if !visible(u, n) {
		return noticeView{}, handlers.ErrNotFound
	}
	v := noticeView{Notice: n, Outcomes: map[string]int{}, Reasons: map[string]int{}}
	staff, households, err := c.Notices.Recipients(ctx, n.Audience)
	if err == nil {
		v.Recipients = len(staff) + len(households)
	}
	if n.Audience.Kind == handlers.AudienceFollowers || n.Audience.Kind == handlers.AudienceHouseholds {
		v.Households = true
		v.QuotaLeft, v.Exhausted, _ = c.Notices.QuotaLeft(ctx, n.Audience)
	}
	prefix := "notice:" + n.ID + ":"
	ids, _ := c.Store.ListRecords(ctx, handlers.KindDelivery, prefix, 0)
	for _, key := range ids {
		if !strings.HasPrefix(key, prefix) {
			break
		}
		if d, err := handlers.GetDelivery(ctx, c.Store, key); err == nil {
			v.Outcomes[d.Status]++
			if d.Reason != "" {
				v.Reasons[reasonText(d.Reason)]++
			}
		}
	}
	v.CanApprove = n.Status == handlers.NoticePending && u.Role == RoleAdmin && u.Name != n.Author
	v.CanSend = n.Status == handlers.NoticeDraft || n.Status == handlers.NoticeScheduled && !n.SendAt.After(c.now())
	if at := c.Notices.WhenSent(n); v.CanSend && n.SendAt.IsZero() && at.After(c.now()) {
		v.WaitsUntil = at.In(handlers.ChinaTime()).Format("01-02 15:04")
	}
	return v, nil
}

func (c *Console) noticeView(w http.ResponseWriter, r *http.Request) {
	v, err := c.noticeData(r, r.URL.Query().Get("id"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	c.render(w, r, "notice.html", "通知 "+v.Notice.Title, v, "", "")
}

func (c *Console) renderNotice(w http.ResponseWriter, r *http.Request, id, flash, errText string) {
	v, err := c.noticeData(r, id)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	c.render(w, r, "notice.html", "通知 "+v.Notice.Title, v, flash, errText)
}

func (c *Console) noticeSend(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	if _, err := c.noticeData(r, id); err != nil { // scope check
		http.NotFound(w, r)
		return
	}
	n, err := c.Notices.Send(r.Context(), id, c.ReachByPhone)
	if err != nil {
		c.renderNotice(w, r, id, "", err.Error())
		return
	}
	handlers.Audit(r.Context(), c.Store, state(r).user.Name, "notice_send", "《"+n.Title+"》"+nameOr(statusNames, n.Status), c.now())
	msg := fmt.Sprintf("已发出：%d 人排队发送，%d 人未绑定，%d 人已取消关注，%d 人本月群发次数已用完", n.Report.Queued, n.Report.Unbound, n.Report.NotFollowing, n.Report.OverQuota)
	if n.Status == handlers.NoticeScheduled {
		msg = "已定时，将在 " + n.SendAt.In(handlers.ChinaTime()).Format("01-02 15:04") + " 发出"
	}
	c.renderNotice(w, r, id, msg, "")
}

func (c *Console) noticeApprove(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	u := state(r).user
	n, err := c.Notices.Approve(r.Context(), id, u.Name)
	if err != nil {
		c.renderNotice(w, r, id, "", err.Error())
		return
	}
	handlers.Audit(r.Context(), c.Store, u.Name, "notice_approve", "《"+n.Title+"》", c.now())
	c.renderNotice(w, r, id, "已批准，可以发送了", "")
}

// noticePreview sends the notice to the official's own WeChat (through
// their roster entry).
func (c *Console) noticePreview(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	u := state(r).user
	v, err := c.noticeData(r, id)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if u.Phone == "" {
		c.renderNotice(w, r, id, "", "您的账号还没有登记手机号，无法预览到微信：请在「我的账号」里填上手机号，并在公众号里绑定")
		return
	}
	p, err := c.Staff.Person(r.Context(), u.Phone)
	if err != nil || p.OpenID == "" {
		c.renderNotice(w, r, id, "", "您的手机号还没有在公众号里绑定，请先发送「绑定 绑定码」")
		return
	}
	payload, _ := json.Marshal(handlers.OutboundText{To: p.OpenID, Phone: p.Phone, Text: "【预览】" + v.Notice.Text(), Kind: "notice"})
	key := fmt.Sprintf("preview:%s:%d", id, c.now().UnixNano())
	if _, err := c.Store.Enqueue(r.Context(), c.Queue, handlers.QueueItem{Key: key, Payload: payload}); err != nil {
		c.renderNotice(w, r, id, "", err.Error())
		return
	}
	c.renderNotice(w, r, id, "预览已发到您的微信", "")
}
