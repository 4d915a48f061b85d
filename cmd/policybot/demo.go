package main

import (
	"bytes"
	"context"
	"time"

	"policybot/bot"
	"policybot/handlers"
	"policybot/roster"
)

// demoPeople are people of the example roster the simulator can be, in
// local mode, so that a tester sees what staff get: notices, reminders,
// 我的任务.
var demoPeople = []struct{ openid, phone, label string }{
	{"demo-helper", "13800000001", "帮扶责任人 王建国"},
	{"demo-secretary", "13800000004", "第一书记 陈晓东"},
	{"demo-leader", "13800000007", "责任领导 周海"},
}

// seedDemo gives local mode its demo: the example roster when no roster
// was imported yet, and the demo people bound to their openids. A roster
// an official imported is never touched; its people are not demo people.
func seedDemo(ctx context.Context, staff *handlers.Staff) ([]bot.DemoUser, error) {
	r, err := staff.Export(ctx)
	if err != nil {
		return nil, err
	}
	if len(r.People) == 0 {
		p, err := roster.ReadXLSX(bytes.NewReader(roster.Example))
		if err != nil {
			return nil, err
		}
		if _, err := staff.Apply(ctx, p.Roster); err != nil {
			return nil, err
		}
	}
	var users []bot.DemoUser
	for _, d := range demoPeople {
		p, err := staff.Person(ctx, d.phone)
		if err != nil {
			continue // an imported roster without this person
		}
		if p.OpenID == "" {
			inv, err := staff.CreateInvite(ctx, d.phone, time.Hour)
			if err != nil {
				return users, err
			}
			if p, err = staff.Bind(ctx, d.openid, inv.Code); err != nil {
				return users, err
			}
		}
		if p.OpenID == d.openid {
			users = append(users, bot.DemoUser{OpenID: d.openid, Label: d.label})
		}
	}
	return users, nil
}
