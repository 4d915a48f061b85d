package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"policybot/bot"
	"policybot/console"
	"policybot/handlers"
	"policybot/store/redisstore"
)

// The sections of Config. Each is embedded, so files and the environment
// keep one flat list of keys, and each checks its own values. Defaults a
// package already has are taken from it, never written again here.

// GeneralSettings: where data lives, the knowledge folders, the listeners
// and the log.
type GeneralSettings struct {
	// DataDir holds everything policybot writes: the embedded store and
	// the unanswered-question log of `ask`.
	DataDir string `json:"data_dir"`
	// KBDirs are extra knowledge folders (POLICYBOT_KB_DIRS: a list
	// separated by the OS path-list separator, ':' on Linux).
	KBDirs []string `json:"kb_dirs"`
	// MinConfidence overrides the calibrated refusal threshold (0 keeps it).
	MinConfidence float64 `json:"min_confidence"`
	// Listen is the HTTP address of `serve`.
	Listen string `json:"listen"`
	// MetricsListen serves /metrics on its own address, loopback by
	// default, never on the public listener; "off" serves none.
	MetricsListen string `json:"metrics_listen"`
	// LogLevel: debug (logs message text), info, warn, error.
	LogLevel string `json:"log_level"`
}

func defaultGeneral() GeneralSettings {
	return GeneralSettings{DataDir: "data", Listen: "127.0.0.1:8080", MetricsListen: "127.0.0.1:9464", LogLevel: "info"}
}

func (c GeneralSettings) validate() (errs []error) {
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if c.MinConfidence < 0 || c.MinConfidence > 1 {
		errs = append(errs, fmt.Errorf("min_confidence: %v is outside 0..1", c.MinConfidence))
	}
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: must not be empty (e.g. 127.0.0.1:8080)"))
	}
	if c.MetricsListen == "" {
		errs = append(errs, errors.New(`metrics_listen: must not be empty (an address such as 127.0.0.1:9464, or "off")`))
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel))
	}
	return errs
}

// StoreSettings: the storage backend.
type StoreSettings struct {
	// Store is "embedded" (default: DataDir, nothing to install) or
	// "redis" (several instances share one Redis).
	Store string `json:"store"`
	// RedisURL: redis://[user:password@]host:port/db or rediss:// (TLS).
	RedisURL string `json:"redis_url" secret:"password"`
	// RedisAddrs: Sentinel addresses (with RedisMasterName) or Cluster seed
	// nodes, used instead of RedisURL; separated by commas in the environment.
	RedisAddrs      []string `json:"redis_addrs"`
	RedisMasterName string   `json:"redis_master_name"`
	RedisUsername   string   `json:"redis_username"`
	RedisPassword   string   `json:"redis_password" secret:"all"`
	RedisDB         int      `json:"redis_db"`
	// RedisPrefix starts every key (several deployments can share a Redis).
	RedisPrefix string `json:"redis_prefix"`
	// RedisTimeout bounds every Redis operation ("1s", "500ms").
	RedisTimeout Duration `json:"redis_timeout"`
}

func defaultStore() StoreSettings {
	return StoreSettings{Store: "embedded", RedisPrefix: redisstore.DefaultPrefix, RedisTimeout: Duration(redisstore.DefaultTimeout)}
}

func (c StoreSettings) validate() (errs []error) {
	switch c.Store {
	case "embedded":
	case "redis":
		switch {
		case c.RedisURL == "" && len(c.RedisAddrs) == 0:
			errs = append(errs, errors.New("store is redis but neither redis_url (POLICYBOT_REDIS_URL) nor redis_addrs is set"))
		case c.RedisURL != "" && len(c.RedisAddrs) > 0:
			errs = append(errs, errors.New("redis_url and redis_addrs are both set: use one"))
		case c.RedisURL != "":
			if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
				errs = append(errs, fmt.Errorf("redis_url: want redis://host:port/db or rediss://…, got %q", maskURL(c.RedisURL)))
			}
		}
		if c.RedisPrefix == "" {
			errs = append(errs, errors.New("redis_prefix: must not be empty (it keeps policybot's keys apart)"))
		}
		if c.RedisTimeout <= 0 {
			errs = append(errs, errors.New("redis_timeout: must be > 0"))
		}
	default:
		errs = append(errs, fmt.Errorf("store: %q is not embedded or redis", c.Store))
	}
	return errs
}

// WeChatSettings: the official account and its callback.
type WeChatSettings struct {
	// WeChatPath is the callback path configured in the official account.
	WeChatPath string `json:"wechat_path"`
	// WeChat official account settings; with none of them set, serve runs
	// in local mode (generated token, simulator, no real sends).
	WeChatToken  string `json:"wechat_token" secret:"all"`
	WeChatAppID  string `json:"wechat_appid"`
	WeChatSecret string `json:"wechat_secret" secret:"all"`
	WeChatAESKey string `json:"wechat_aes_key" secret:"all"`
	// WeChatMaxSkew rejects requests older or newer than this (replays);
	// a number means seconds; 0 disables.
	WeChatMaxSkew Duration `json:"wechat_max_skew"`
	// WeChatAPIBase points the API client elsewhere (a test server).
	WeChatAPIBase string `json:"wechat_api_base"`
	// WeChatBudget is the handler's share of WeChat's 5 s.
	WeChatBudget Duration `json:"wechat_budget"`
	// Simulator serves /simulator; default on in local mode only (it
	// shows the token to the browser).
	Simulator *bool `json:"simulator"`
}

func defaultWeChat() WeChatSettings {
	return WeChatSettings{WeChatPath: "/wechat", WeChatMaxSkew: Duration(300 * time.Second), WeChatBudget: Duration(bot.DefaultBudget)}
}

// LocalMode is true when no WeChat account is configured: serve then
// generates a token, serves the simulator and sends nothing to WeChat.
func (c WeChatSettings) LocalMode() bool {
	return c.WeChatToken == "" && c.WeChatAppID == "" && c.WeChatSecret == "" && c.WeChatAESKey == ""
}

func (c WeChatSettings) validate() (errs []error) {
	if !strings.HasPrefix(c.WeChatPath, "/") {
		errs = append(errs, fmt.Errorf("wechat_path: %q must start with /", c.WeChatPath))
	}
	if !c.LocalMode() {
		if c.WeChatToken == "" {
			errs = append(errs, errors.New("wechat_token (POLICYBOT_WECHAT_TOKEN) is required once any WeChat setting is given"))
		}
		if (c.WeChatAppID == "") != (c.WeChatSecret == "") {
			errs = append(errs, errors.New("wechat_appid and wechat_secret go together (the secret is needed to send messages)"))
		}
	}
	if c.WeChatAESKey != "" {
		if len(c.WeChatAESKey) != 43 {
			errs = append(errs, fmt.Errorf("wechat_aes_key: the EncodingAESKey has 43 characters, got %d", len(c.WeChatAESKey)))
		}
		if c.WeChatAppID == "" {
			errs = append(errs, errors.New("wechat_aes_key needs wechat_appid (safe mode checks it)"))
		}
	}
	if c.WeChatMaxSkew < 0 {
		errs = append(errs, errors.New("wechat_max_skew: must be >= 0 (0 disables)"))
	}
	if b := time.Duration(c.WeChatBudget); b <= 0 || b > 4500*time.Millisecond {
		errs = append(errs, fmt.Errorf("wechat_budget: %v must be > 0 and <= 4.5s (WeChat waits 5 s)", b))
	}
	return errs
}

// QuizSettings: rounds, the daily question, quiet hours and places.
type QuizSettings struct {
	// QuizRoundSize is the number of questions per round.
	QuizRoundSize int `json:"quiz_round_size"`
	// QuizIdle ends a round nobody answers for this long.
	QuizIdle Duration `json:"quiz_idle"`
	// QuizDailyAt is when the daily question goes out (HH:MM, Asia/Shanghai).
	QuizDailyAt string `json:"quiz_daily_at"`
	// QuietHours: nothing is sent to people inside them (HH:MM-HH:MM, may
	// wrap midnight; "off" for none).
	QuietHours string `json:"quiet_hours"`
	// PlacesFile lists towns and villages ({"镇": ["村", ...]}) people
	// choose from with 设置 村名. Local mode without one uses a demo list.
	PlacesFile string `json:"places_file"`
}

func defaultQuiz() QuizSettings {
	return QuizSettings{QuizRoundSize: handlers.DefaultRoundSize, QuizIdle: Duration(handlers.DefaultRoundIdle),
		QuizDailyAt: handlers.DefaultDailyAt, QuietHours: handlers.DefaultQuiet}
}

func (c QuizSettings) validate() (errs []error) {
	if c.QuizRoundSize < 1 || c.QuizRoundSize > 20 {
		errs = append(errs, fmt.Errorf("quiz_round_size: %d is outside 1..20", c.QuizRoundSize))
	}
	if c.QuizIdle < Duration(time.Minute) {
		errs = append(errs, errors.New("quiz_idle: at least 1m"))
	}
	if _, err := handlers.ParseClock(c.QuizDailyAt); err != nil {
		errs = append(errs, fmt.Errorf("quiz_daily_at: %w", err))
	}
	if _, _, _, err := handlers.ParseQuiet(c.QuietHours); err != nil {
		errs = append(errs, fmt.Errorf("quiet_hours: %w", err))
	}
	return errs
}

// ReminderSettings: the reminder jobs (cron, Asia/Shanghai), their rules
// and binding codes.
type ReminderSettings struct {
	JobVisits        string   `json:"job_visits"`
	JobAttendance    string   `json:"job_attendance"`
	JobDeadlines     string   `json:"job_deadlines"`
	VisitRemindDay   int      `json:"visit_remind_day"`
	VisitRemindDay2  int      `json:"visit_remind_day2"`
	VisitEscalateDay int      `json:"visit_escalate_day"`
	AttendanceDay    int      `json:"attendance_day"`
	InviteTTL        Duration `json:"invite_ttl"`
}

func defaultReminders() ReminderSettings {
	return ReminderSettings{JobVisits: "0 8 * * *", JobAttendance: "10 8 * * *", JobDeadlines: "20 8 * * *",
		VisitRemindDay: handlers.DefaultVisitDay, VisitRemindDay2: handlers.DefaultVisitDay2, VisitEscalateDay: handlers.DefaultEscalateDay,
		AttendanceDay: handlers.DefaultAttendanceDay, InviteTTL: Duration(72 * time.Hour)}
}

func (c ReminderSettings) validate() (errs []error) {
	for _, j := range []struct{ name, spec string }{{"job_visits", c.JobVisits}, {"job_attendance", c.JobAttendance}, {"job_deadlines", c.JobDeadlines}} {
		if _, err := cron.ParseStandard(j.spec); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a cron schedule (minute hour day month weekday): %v", j.name, j.spec, err))
		}
	}
	for _, d := range []struct {
		name string
		day  int
	}{{"visit_remind_day", c.VisitRemindDay}, {"visit_remind_day2", c.VisitRemindDay2}, {"visit_escalate_day", c.VisitEscalateDay}, {"attendance_day", c.AttendanceDay}} {
		if d.day < 1 || d.day > 28 {
			errs = append(errs, fmt.Errorf("%s: %d is outside 1..28", d.name, d.day))
		}
	}
	return errs
}

// DeliverySettings: how queued messages go out, and through which channels.
type DeliverySettings struct {
	// DeliveryRate is messages per second to WeChat across this
	// instance's DeliveryWorkers.
	DeliveryRate float64 `json:"delivery_rate"`
	// ChannelRates limits each channel (template, subscribe, wecom,
	// custom) to its own messages per second.
	ChannelRates    map[string]float64 `json:"channel_rates"`
	DeliveryWorkers int                `json:"delivery_workers"`
	// Templates maps a reminder kind (visit, attendance, deadline,
	// task_closed, daily_quiz) to a template message id; kinds without
	// one go as customer-service messages.
	Templates map[string]string `json:"templates"`
	// SubscribeTemplates maps a kind to a subscribe-message (订阅通知)
	// template id, for people who accepted it.
	SubscribeTemplates map[string]string `json:"subscribe_templates"`
	// Channels is the order in which channels are tried for each message
	// (template, subscribe, wecom, custom); unconfigured ones are skipped.
	Channels []string `json:"channels"`
	// WeCom app for staff in a WeCom corp (reached by their phone number).
	WeComCorpID  string `json:"wecom_corpid"`
	WeComSecret  string `json:"wecom_secret" secret:"all"`
	WeComAgentID int    `json:"wecom_agentid"`
	WeComAPIBase string `json:"wecom_api_base"`
}

func defaultDelivery() DeliverySettings {
	return DeliverySettings{DeliveryRate: 20, DeliveryWorkers: 4, Channels: []string{"template", "subscribe", "wecom", "custom"}}
}

func (c DeliverySettings) validate() (errs []error) {
	for _, ch := range c.Channels {
		switch ch {
		case "template", "subscribe", "wecom", "custom":
		default:
			errs = append(errs, fmt.Errorf("channels: %q is not template, subscribe, wecom or custom", ch))
		}
	}
	if (c.WeComCorpID == "") != (c.WeComSecret == "") || c.WeComCorpID != "" && c.WeComAgentID == 0 {
		errs = append(errs, errors.New("wecom_corpid, wecom_secret and wecom_agentid go together"))
	}
	if c.DeliveryRate <= 0 || c.DeliveryWorkers < 1 {
		errs = append(errs, errors.New("delivery_rate must be > 0 and delivery_workers >= 1"))
	}
	return errs
}

// ConsoleSettings: the officials' console and its front door.
type ConsoleSettings struct {
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges,
	// separated by commas in the environment) whose X-Forwarded-For names
	// the client; with none, the peer's address is the client.
	TrustedProxies []string `json:"trusted_proxies"`
	// ConsoleFormBytes and ConsoleUploadBytes cap the body of a console
	// form and of an upload (a document, a workbook).
	ConsoleFormBytes   int64 `json:"console_form_bytes"`
	ConsoleUploadBytes int64 `json:"console_upload_bytes"`
	// Login guesses per login_window: from one address in all, at one
	// account from one address, and at one account from everywhere.
	LoginPerAddress        int      `json:"login_per_address"`
	LoginPerAccountAddress int      `json:"login_per_account_address"`
	LoginPerAccount        int      `json:"login_per_account"`
	LoginWindow            Duration `json:"login_window"`
	// NoticeTwoPerson: a notice goes out only after a second admin approves it.
	NoticeTwoPerson bool `json:"notice_two_person"`
}

func defaultConsole() ConsoleSettings {
	d := console.DefaultLimits
	return ConsoleSettings{ConsoleFormBytes: d.FormBytes, ConsoleUploadBytes: d.UploadBytes, LoginPerAddress: d.PerAddress,
		LoginPerAccountAddress: d.PerAccountAddress, LoginPerAccount: d.PerAccount, LoginWindow: Duration(d.Window)}
}

func (c ConsoleSettings) validate() (errs []error) {
	if _, err := console.ParseProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if c.ConsoleFormBytes < 4<<10 || c.ConsoleUploadBytes < 64<<10 {
		errs = append(errs, errors.New("console_form_bytes must be at least 4096 and console_upload_bytes at least 65536"))
	}
	if c.LoginPerAddress < 1 || c.LoginPerAccountAddress < 1 || c.LoginPerAccount < 1 || c.LoginWindow < Duration(time.Minute) {
		errs = append(errs, errors.New("login_per_address, login_per_account_address and login_per_account must be >= 1 and login_window at least 1m"))
	}
	return errs
}

// Limits are the console's limits (validate has checked the proxies).
func (c ConsoleSettings) Limits() console.Limits {
	proxies, _ := console.ParseProxies(c.TrustedProxies)
	return console.Limits{FormBytes: c.ConsoleFormBytes, UploadBytes: c.ConsoleUploadBytes,
		PerAddress: c.LoginPerAddress, PerAccountAddress: c.LoginPerAccountAddress, PerAccount: c.LoginPerAccount,
		Window: time.Duration(c.LoginWindow), TrustedProxies: proxies}
}
