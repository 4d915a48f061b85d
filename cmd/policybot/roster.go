package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"policybot/bot"
	"policybot/handlers"
	"policybot/roster"
	"policybot/scheduler"
)

const rosterUsage = `usage:
  policybot roster import FILE.xlsx | 人员.csv 结对.csv 整改任务.csv   check every row, then apply (all or nothing)
  policybot roster export FILE.xlsx                                  write the roster back in the same format
  policybot roster invite [--phone P] [--role R] [--ttl 72h] [--qr]   single-use binding codes (and QR codes)
  policybot remind [--dry-run] [--at 2026-12-01T08:00+08:00] [--json] [--kind visit|attendance|deadline]
                                                                     the reminders due; without --dry-run they are queued and sent
  policybot deliveries [--failed] [--limit 50]                       what went out, and what did not and why
`

// staffFor builds the Staff of a configuration.
func staffFor(cfg Config, st handlers.Store) *handlers.Staff {
	return &handlers.Staff{Store: st, Loc: handlers.ChinaTime(), ReachByPhone: cfg.WeComCorpID != "", Remind: handlers.RemindConfig{
		VisitDay: cfg.VisitRemindDay, VisitDay2: cfg.VisitRemindDay2, EscalateDay: cfg.VisitEscalateDay,
		AttendanceDay: cfg.AttendanceDay, Quiet: cfg.QuietHours}}
}

// channelsFor builds the delivery channels a configuration enables, in
// its order; sender is the customer-service sender (the API, or the
// local outbox).
func channelsFor(cfg Config, st handlers.Store, sender scheduler.Sender) []scheduler.Channel {
	api, _ := sender.(*bot.API)
	var out []scheduler.Channel
	for _, name := range cfg.Channels {
		switch name {
		case "template":
			if api != nil && len(cfg.Templates) > 0 {
				out = append(out, &scheduler.TemplateChannel{API: api, Templates: cfg.Templates})
			}
		case "subscribe":
			if api != nil && len(cfg.SubscribeTemplates) > 0 {
				out = append(out, &scheduler.SubscribeChannel{API: api, Templates: cfg.SubscribeTemplates})
			}
		case "wecom":
			if cfg.WeComCorpID != "" {
				w := &bot.WeCom{Base: cfg.WeComAPIBase, CorpID: cfg.WeComCorpID, Secret: cfg.WeComSecret, AgentID: cfg.WeComAgentID, Users: st}
				out = append(out, &scheduler.WeComChannel{API: w, NotMember: bot.ErrNotInCorp})
			}
		case "custom":
			out = append(out, &scheduler.CustomChannel{API: sender})
		}
	}
	return out
}

// apiFor is the WeChat API client of a configuration (its access token
// cached in st for every instance), nil without an account.
func apiFor(cfg Config, st handlers.Store, logger *slog.Logger) *bot.API {
	if cfg.WeChatAppID == "" || cfg.WeChatSecret == "" {
		return nil
	}
	configureSDK(cfg) // the SDK fetches tokens: point it at wechat_api_base too
	return &bot.API{Base: cfg.WeChatAPIBase, HTTP: &http.Client{Timeout: 5 * time.Second},
		Tokens: bot.NewStableTokens(cfg.WeChatAppID, cfg.WeChatSecret, &bot.TokenCache{Store: st, Logger: logger})}
}

func cmdRoster(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, rosterUsage)
		return 2
	}
	c := newCommand("roster "+args[0], stderr)
	phone := c.String("phone", "", "invite: only this person")
	role := c.String("role", "", "invite: only this role")
	ttl := c.Duration("ttl", 0, "invite: how long codes stay valid (default invite_ttl)")
	qr := c.Bool("qr", false, "invite: also create temporary QR codes through the WeChat API")
	l, code := c.load(args[1:], needStore)
	defer l.close()
	if code != 0 {
		return code
	}
	cfg, st := l.cfg, l.st
	s := staffFor(cfg, st)
	fail := func(err error) int { fmt.Fprintln(stderr, "policybot:", err); return 1 }
	switch args[0] {
	case "import":
		if c.NArg() == 0 {
			fmt.Fprint(stderr, rosterUsage)
			return 2
		}
		p, err := readRosterFiles(c.Args())
		if err != nil {
			return fail(err)
		}
		ex, err := s.Existing(ctx)
		if err != nil {
			return fail(err)
		}
		bad := append(p.Bad, roster.Check(p.Roster, p.Rows, ex)...)
		if len(bad) > 0 {
			for i, e := range bad {
				if i == 100 {
					fmt.Fprintf(stderr, "… and %d more\n", len(bad)-100)
					break
				}
				fmt.Fprintln(stderr, e.Error())
			}
			fmt.Fprintf(stderr, "policybot: %d bad rows; nothing was imported\n", len(bad))
			return 1
		}
		res, err := s.Apply(ctx, p.Roster)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "imported %d people, %d pairings, %d tasks\n", res.People, res.Pairings, res.Tasks)
		return 0
	case "export":
		if c.NArg() != 1 {
			fmt.Fprint(stderr, rosterUsage)
			return 2
		}
		r, err := s.Export(ctx)
		if err != nil {
			return fail(err)
		}
		var buf bytes.Buffer
		if err := roster.WriteXLSX(&buf, r); err != nil {
			return fail(err)
		}
		if err := os.WriteFile(c.Arg(0), buf.Bytes(), 0o644); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "wrote %d people, %d pairings, %d tasks to %s\n", len(r.People), len(r.Pairings), len(r.Tasks), c.Arg(0))
		return 0
	case "invite":
		d := time.Duration(cfg.InviteTTL)
		if *ttl > 0 {
			d = *ttl
		}
		r, err := s.Export(ctx)
		if err != nil {
			return fail(err)
		}
		api := apiFor(cfg, st, nil)
		if *qr && api == nil {
			return fail(errors.New("--qr needs wechat_appid and wechat_secret"))
		}
		tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
		fmt.Fprintln(tw, "姓名\t手机号\t角色\t绑定码\t有效至\t二维码")
		n := 0
		for _, p := range r.People {
			if *phone != "" && p.Phone != *phone || *role != "" && p.Role != *role {
				continue
			}
			inv, err := s.CreateInvite(ctx, p.Phone, d)
			if err != nil {
				return fail(err)
			}
			link := ""
			if *qr {
				if link, err = api.CreateQRScene(ctx, handlers.BindScenePrefix+inv.Code, min(d, 30*24*time.Hour)); err != nil {
					return fail(err)
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Phone, p.Role, inv.Code, inv.Expires.In(handlers.ChinaTime()).Format("2006-01-02 15:04"), link)
			n++
		}
		tw.Flush()
		if n == 0 {
			return fail(errors.New("nobody in the roster matches"))
		}
		return 0
	}
	fmt.Fprint(stderr, rosterUsage)
	return 2
}

// readRosterFiles reads one .xlsx or several .csv files named by sheet.
func readRosterFiles(files []string) (*roster.Parsed, error) {
	if len(files) == 1 && strings.EqualFold(filepath.Ext(files[0]), ".xlsx") {
		f, err := os.Open(files[0])
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return roster.ReadXLSX(f)
	}
	p := &roster.Parsed{}
	for _, name := range files {
		sheet, ok := roster.SheetOfFile(name)
		if !ok || !strings.EqualFold(filepath.Ext(name), ".csv") {
			return nil, fmt.Errorf("%s: %w", name, roster.ErrNoSheets)
		}
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		err = p.ReadCSV(sheet, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return p, nil
}

func cmdRemind(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("remind", stderr)
	dry := c.Bool("dry-run", false, "print the reminders, send nothing")
	atS := c.String("at", "", "the moment to compute for (RFC 3339, e.g. 2026-12-01T08:00+08:00); default now")
	asJSON := c.Bool("json", false, "one JSON object per reminder")
	kind := c.String("kind", "", "only visit, attendance or deadline")
	wait := c.Duration("wait", 2*time.Minute, "after queueing, deliver for at most this long")
	l, code := c.load(args, needStore)
	defer l.close()
	if code != 0 {
		return code
	}
	at := time.Now()
	if *atS != "" {
		var err error
		if at, err = parseMoment(*atS); err != nil {
			fmt.Fprintln(stderr, "policybot: --at:", err)
			return 2
		}
	}
	cfg, st := l.cfg, l.st
	s := staffFor(cfg, st)
	var kinds []string
	if *kind != "" {
		kinds = []string{*kind}
	}
	if *dry {
		rs, err := s.Plan(ctx, at, kinds...)
		if err != nil {
			fmt.Fprintln(stderr, "policybot:", err)
			return 1
		}
		printReminders(stdout, rs, *asJSON)
		return 0
	}
	res, err := s.Send(ctx, at, kinds...)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d reminders due: %d queued, %d to people who have not bound WeChat\n", res.Planned, res.Queued, res.Unbound)
	api := apiFor(cfg, st, nil)
	if api == nil {
		fmt.Fprintln(stdout, "no WeChat account configured: the queue is delivered by `policybot serve`")
		return 0
	}
	// deliver what is ready now, until the queue has nothing ready or --wait ends
	d := &scheduler.Deliverer{Store: st, Queue: handlers.DailyQueue, Channels: channelsFor(cfg, st, api), Rate: cfg.DeliveryRate, ChannelRates: cfg.ChannelRates, Workers: cfg.DeliveryWorkers}
	dctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	sent := 0
	for dctx.Err() == nil {
		worked, err := d.Once(dctx)
		if err != nil {
			fmt.Fprintln(stderr, "policybot:", err)
			return 1
		}
		if !worked {
			break
		}
		sent++
	}
	fmt.Fprintf(stdout, "handled %d queued messages; see `policybot deliveries`\n", sent)
	return 0
}

// parseMoment reads 2026-12-01T08:00+08:00 (seconds optional) or
// 2026-12-01 08:00 (Beijing time).
func parseMoment(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	for _, layout := range []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, handlers.ChinaTime()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q: want 2026-12-01T08:00+08:00", s)
}

func printReminders(w io.Writer, rs []handlers.Reminder, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range rs {
			enc.Encode(r)
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "收件人\t手机号\t类型\t幂等键\t内容")
	for _, r := range rs {
		to := r.ToName
		if r.OpenID == "" {
			to += "（未绑定）"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", to, r.ToPhone, r.Kind, r.Key, strings.ReplaceAll(r.Text, "\n", " / "))
	}
	tw.Flush()
	fmt.Fprintf(w, "%d reminders\n", len(rs))
}

func cmdDeliveries(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("deliveries", stderr)
	failed := c.Bool("failed", false, "only what did not go out")
	limit := c.Int("limit", 50, "at most this many per status")
	l, code := c.load(args, needStore)
	defer l.close()
	if code != 0 {
		return code
	}
	st := l.st
	statuses := []string{"sent", "delivered", "failed", "dead"}
	if *failed {
		statuses = []string{"failed", "dead"}
	}
	tw := tabwriter.NewWriter(stdout, 0, 2, 2, ' ', 0)
	fmt.Fprintln(tw, "状态\t时间\t类型\t渠道\t次数\t幂等键\t原因")
	n := 0
	for _, status := range statuses {
		ds, err := handlers.Deliveries(ctx, st, status, *limit)
		if err != nil {
			return c.fail(err)
		}
		for _, d := range ds {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", d.Status, d.At.In(handlers.ChinaTime()).Format("01-02 15:04"), d.Kind, d.Channel, d.Attempts, d.Key, d.Reason)
			n++
		}
	}
	tw.Flush()
	// waiting items that already failed at least once
	dead, err := st.DeadLetters(ctx, handlers.DailyQueue, *limit)
	if err == nil && len(dead) > 0 {
		fmt.Fprintf(stdout, "\n%d dead letters in the queue (revive with the console, or fix and re-import)\n", len(dead))
	}
	fmt.Fprintf(stdout, "%d deliveries\n", n)
	return 0
}
