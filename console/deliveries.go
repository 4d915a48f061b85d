package console

import (
	"context"
	"net/http"

	"policybot/handlers"
)

// deliveriesData is the 消息发送 page: what went out and what did not.
type deliveriesData struct {
	Recent []handlers.Delivery
	Failed []handlers.Delivery
	Dead   []handlers.DeadLetter
}

func (c *Console) deliveriesData(ctx context.Context) deliveriesData {
	var d deliveriesData
	load := func(status string, n int) []handlers.Delivery {
		out, _ := handlers.Deliveries(ctx, c.Store, status, n)
		return out
	}
	d.Recent = append(load("sent", 50), load("delivered", 50)...)
	d.Failed = load("failed", 100)
	d.Dead, _ = c.Store.DeadLetters(ctx, c.Queue, 100)
	return d
}

func (c *Console) deliveries(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, "deliveries.html", "消息发送", c.deliveriesData(r.Context()), "", "")
}

func (c *Console) revive(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	key := r.FormValue("key")
	err := c.Store.Revive(ctx, c.Queue, key)
	if err != nil {
		c.render(w, r, "deliveries.html", "消息发送", c.deliveriesData(ctx), "", "重发失败："+err.Error())
		return
	}
	handlers.Audit(ctx, c.Store, state(r).user.Name, "revive", "一条多次发送失败的消息", c.now())
	c.render(w, r, "deliveries.html", "消息发送", c.deliveriesData(ctx), "已放回发送队列，稍后重发", "")
}
