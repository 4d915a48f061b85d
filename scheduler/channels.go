package scheduler

import (
	"context"
	"errors"
	"strings"
	"time"

	"policybot/handlers"
)

// ErrNotApplicable: this channel cannot reach this person with this
// message (no template for the kind, the person has no WeCom account, has
// not accepted subscribe messages): the next channel is tried.
var ErrNotApplicable = errors.New("channel does not reach this person")

// Channel is one way to reach a person. Send returns the platform's
// message id when it has one (template messages: confirmed later by
// TEMPLATESENDJOBFINISH).
type Channel interface {
	Name() string
	Send(ctx context.Context, msg handlers.OutboundText) (msgid string, err error)
}

// TemplateChannel sends template messages for the kinds that have a
// template id.
type TemplateChannel struct {
	API       TemplateSender
	Templates map[string]string // kind → template id
	// Fields names the template's fields for title, content and time;
	// default thing1, thing2, time3.
	Fields map[string]string
	Now    func() time.Time
	Loc    *time.Location
}

func (c *TemplateChannel) Name() string { return "template" }

func (c *TemplateChannel) Send(ctx context.Context, msg handlers.OutboundText) (string, error) {
	id := c.Templates[msg.Kind]
	if id == "" || msg.To == "" {
		return "", ErrNotApplicable
	}
	return c.API.SendTemplate(ctx, msg.To, id, templateFields(c.Fields, msg.Text, c.Now, c.Loc))
}

// defaultTemplateFields names the fields of the common reminder template.
var defaultTemplateFields = map[string]string{"title": "thing1", "content": "thing2", "time": "time3"}

func templateFields(names map[string]string, text string, now func() time.Time, loc *time.Location) map[string]string {
	if names == nil {
		names = defaultTemplateFields
	}
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = handlers.ChinaTime()
	}
	title, content := splitTitle(text)
	return map[string]string{names["title"]: title, names["content"]: content, names["time"]: now().In(loc).Format("2006-01-02 15:04")}
}

// SubscribeSender sends subscribe messages (订阅通知, bot.API).
type SubscribeSender interface {
	SendSubscribe(ctx context.Context, openid, templateID string, fields map[string]string) error
}

// SubscribeChannel sends subscribe messages for the kinds that have one;
// a person who has not accepted them (43101) is not reached.
type SubscribeChannel struct {
	API       SubscribeSender
	Templates map[string]string
	Fields    map[string]string
	Now       func() time.Time
	Loc       *time.Location
}

func (c *SubscribeChannel) Name() string { return "subscribe" }

func (c *SubscribeChannel) Send(ctx context.Context, msg handlers.OutboundText) (string, error) {
	id := c.Templates[msg.Kind]
	if id == "" || msg.To == "" {
		return "", ErrNotApplicable
	}
	err := c.API.SendSubscribe(ctx, msg.To, id, templateFields(c.Fields, msg.Text, c.Now, c.Loc))
	if err != nil && strings.Contains(err.Error(), "errcode 43101") {
		return "", ErrNotApplicable
	}
	return "", err
}

// WeComSender sends WeCom app messages to a person found by mobile number.
type WeComSender interface {
	SendWeCom(ctx context.Context, mobile, text string) error
}

// WeComChannel reaches staff who are in the WeCom corp, by phone number.
// A person without a phone in the message (households), or whose number
// NotMember says is not in the corp, is not reached by it.
type WeComChannel struct {
	API       WeComSender
	NotMember func(error) bool
}

func (c *WeComChannel) Name() string { return "wecom" }

func (c *WeComChannel) Send(ctx context.Context, msg handlers.OutboundText) (string, error) {
	if msg.Phone == "" {
		return "", ErrNotApplicable
	}
	err := c.API.SendWeCom(ctx, msg.Phone, msg.Text)
	if err != nil && c.NotMember != nil && c.NotMember(err) {
		return "", ErrNotApplicable
	}
	return "", err
}

// CustomChannel sends customer-service messages (within 48 h of the
// person's last message to the account; in local mode, the simulator).
type CustomChannel struct{ API Sender }

func (c *CustomChannel) Name() string { return "custom" }

func (c *CustomChannel) Send(ctx context.Context, msg handlers.OutboundText) (string, error) {
	if msg.To == "" {
		return "", ErrNotApplicable
	}
	return "", c.API.SendText(ctx, msg.To, msg.Text)
}
