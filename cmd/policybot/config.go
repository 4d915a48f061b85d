package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"policybot/console"
	"policybot/handlers"
)

// Config is every setting of policybot. Values come from the defaults,
// then the --config file (JSON, keys as in the json tags), then the
// environment (POLICYBOT_ + the json key in upper snake case), then flags.
type Config struct {
	// DataDir holds everything policybot writes (the unanswered-question
	// log now; the embedded store later).
	DataDir string `json:"data_dir"`
	// KBDirs are extra knowledge folders (POLICYBOT_KB_DIRS: a list
	// separated by the OS path-list separator, ':' on Linux).
	KBDirs []string `json:"kb_dirs"`
	// MinConfidence overrides the calibrated refusal threshold (0 keeps it).
	MinConfidence float64 `json:"min_confidence"`

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

	// Listen is the HTTP address of `serve`.
	Listen string `json:"listen"`
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
	// LogLevel: debug (logs message text), info, warn, error.
	LogLevel string `json:"log_level"`

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

	// Reminder jobs (cron, Asia/Shanghai) and their rules.
	JobVisits        string   `json:"job_visits"`
	JobAttendance    string   `json:"job_attendance"`
	JobDeadlines     string   `json:"job_deadlines"`
	VisitRemindDay   int      `json:"visit_remind_day"`
	VisitRemindDay2  int      `json:"visit_remind_day2"`
	VisitEscalateDay int      `json:"visit_escalate_day"`
	AttendanceDay    int      `json:"attendance_day"`
	InviteTTL        Duration `json:"invite_ttl"`
	// Delivery: messages per second to WeChat across this instance's
	// workers, and the workers.
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

	// Semantic retrieval (optional): an OpenAI-compatible embeddings
	// endpoint; with embed_model set, passages and questions are embedded
	// and ranked by meaning as well as by words.
	EmbedModel   string   `json:"embed_model"`
	EmbedBaseURL string   `json:"embed_base_url" secret:"password"`
	EmbedAPIKey  string   `json:"embed_api_key" secret:"all"`
	EmbedTimeout Duration `json:"embed_timeout"`

	// MetricsListen serves /metrics on its own address, loopback by
	// default, never on the public listener; "off" serves none.
	MetricsListen string `json:"metrics_listen"`
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

	// An OpenAI-compatible model writes friendlier answers from the same
	// passages; with no llm_model the extractive answers are unchanged.
	LLMBaseURL    string   `json:"llm_base_url" secret:"password"`
	LLMAPIKey     string   `json:"llm_api_key" secret:"all"`
	LLMAPIKeyFile string   `json:"llm_api_key_file"`
	LLMModel      string   `json:"llm_model"`
	LLMTimeout    Duration `json:"llm_timeout"`
	// LLMPassive is how long a reply waits for the model before the
	// extractive answer goes out.
	LLMPassive   Duration `json:"llm_passive"`
	LLMMaxTokens int      `json:"llm_max_tokens"`
	// LLMFollowUp sends a late, grounded model answer as a customer-service
	// message after the extractive one.
	LLMFollowUp         *bool `json:"llm_followup"`
	LLMPerUserPerMinute int   `json:"llm_per_user_per_minute"`
	LLMPerMinute        int   `json:"llm_per_minute"`
	LLMDailyTokens      int   `json:"llm_daily_tokens"`
}

func defaultConfig() Config {
	return Config{
		DataDir: "data", Store: "embedded", RedisPrefix: "policybot:", RedisTimeout: Duration(time.Second),
		Listen: "127.0.0.1:8080", WeChatPath: "/wechat", WeChatMaxSkew: Duration(300 * time.Second),
		WeChatBudget: Duration(4 * time.Second), LogLevel: "info",
		JobVisits: "0 8 * * *", JobAttendance: "10 8 * * *", JobDeadlines: "20 8 * * *",
		VisitRemindDay: 20, VisitRemindDay2: 25, VisitEscalateDay: 28, AttendanceDay: 20, InviteTTL: Duration(72 * time.Hour),
		LLMTimeout: Duration(20 * time.Second), LLMPassive: Duration(2500 * time.Millisecond), LLMMaxTokens: 400,
		LLMPerUserPerMinute: 6, LLMPerMinute: 300, LLMDailyTokens: 1_000_000,
		DeliveryRate: 20, DeliveryWorkers: 4, Channels: []string{"template", "subscribe", "wecom", "custom"},
		QuizRoundSize: 5, QuizIdle: Duration(30 * time.Minute), QuizDailyAt: "09:00", QuietHours: "21:00-07:30",
		MetricsListen: "127.0.0.1:9464", EmbedTimeout: Duration(800 * time.Millisecond),
		ConsoleFormBytes: console.DefaultLimits.FormBytes, ConsoleUploadBytes: console.DefaultLimits.UploadBytes,
		LoginPerAddress: console.DefaultLimits.PerAddress, LoginPerAccountAddress: console.DefaultLimits.PerAccountAddress,
		LoginPerAccount: console.DefaultLimits.PerAccount, LoginWindow: Duration(console.DefaultLimits.Window),
	}
}

// Duration is a time.Duration written as "1s" in files and the environment.
type Duration time.Duration

// UnmarshalJSON accepts "1s", or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var n float64
		if err2 := json.Unmarshal(b, &n); err2 != nil {
			return fmt.Errorf("a duration such as \"1s\": %w", err)
		}
		*d = Duration(n * float64(time.Second))
		return nil
	}
	v, err := parseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// parseDuration reads "1s", "500ms", or a plain number of seconds ("300").
func parseDuration(s string) (time.Duration, error) {
	if n, err := strconv.ParseFloat(s, 64); err == nil {
		return time.Duration(n * float64(time.Second)), nil
	}
	return time.ParseDuration(s)
}

// MarshalJSON writes "1s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// Validate reports every problem at once, in words an operator can act on.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if c.MinConfidence < 0 || c.MinConfidence > 1 {
		errs = append(errs, fmt.Errorf("min_confidence: %v is outside 0..1", c.MinConfidence))
	}
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
	if c.Listen == "" {
		errs = append(errs, errors.New("listen: must not be empty (e.g. 127.0.0.1:8080)"))
	}
	if c.QuizRoundSize < 1 || c.QuizRoundSize > 20 {
		errs = append(errs, fmt.Errorf("quiz_round_size: %d is outside 1..20", c.QuizRoundSize))
	}
	if c.QuizIdle < Duration(time.Minute) {
		errs = append(errs, errors.New("quiz_idle: at least 1m"))
	}
	for name, spec := range map[string]string{"job_visits": c.JobVisits, "job_attendance": c.JobAttendance, "job_deadlines": c.JobDeadlines} {
		if _, err := cron.ParseStandard(spec); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a cron schedule (minute hour day month weekday): %v", name, spec, err))
		}
	}
	for name, d := range map[string]int{"visit_remind_day": c.VisitRemindDay, "visit_remind_day2": c.VisitRemindDay2, "visit_escalate_day": c.VisitEscalateDay, "attendance_day": c.AttendanceDay} {
		if d < 1 || d > 28 {
			errs = append(errs, fmt.Errorf("%s: %d is outside 1..28", name, d))
		}
	}
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
	if c.LLMModel != "" {
		if c.LLMPassive <= 0 || c.LLMPassive > Duration(4*time.Second) {
			errs = append(errs, errors.New("llm_passive: between 0 and 4s (the reply must leave within WeChat's 5 s)"))
		}
		if c.LLMBaseURL != "" {
			if u, err := url.Parse(c.LLMBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				errs = append(errs, fmt.Errorf("llm_base_url: %q is not an http(s) address", maskURL(c.LLMBaseURL)))
			}
		}
	}
	if c.EmbedModel != "" {
		if c.EmbedBaseURL != "" {
			if u, err := url.Parse(c.EmbedBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
				errs = append(errs, fmt.Errorf("embed_base_url: %q is not an http(s) address", maskURL(c.EmbedBaseURL)))
			}
		}
		if c.EmbedTimeout <= 0 || c.EmbedTimeout > Duration(3*time.Second) {
			errs = append(errs, errors.New("embed_timeout: between 0 and 3s (a question waits for it within WeChat's 5 s)"))
		}
	}
	if _, err := console.ParseProxies(c.TrustedProxies); err != nil {
		errs = append(errs, err)
	}
	if c.ConsoleFormBytes < 4<<10 || c.ConsoleUploadBytes < 64<<10 {
		errs = append(errs, errors.New("console_form_bytes must be at least 4096 and console_upload_bytes at least 65536"))
	}
	if c.LoginPerAddress < 1 || c.LoginPerAccountAddress < 1 || c.LoginPerAccount < 1 || c.LoginWindow < Duration(time.Minute) {
		errs = append(errs, errors.New("login_per_address, login_per_account_address and login_per_account must be >= 1 and login_window at least 1m"))
	}
	if c.MetricsListen == "" {
		errs = append(errs, errors.New(`metrics_listen: must not be empty (an address such as 127.0.0.1:9464, or "off")`))
	}
	if c.DeliveryRate <= 0 || c.DeliveryWorkers < 1 {
		errs = append(errs, errors.New("delivery_rate must be > 0 and delivery_workers >= 1"))
	}
	if _, err := handlers.ParseClock(c.QuizDailyAt); err != nil {
		errs = append(errs, fmt.Errorf("quiz_daily_at: %w", err))
	}
	if _, _, _, err := handlers.ParseQuiet(c.QuietHours); err != nil {
		errs = append(errs, fmt.Errorf("quiet_hours: %w", err))
	}
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
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel))
	}
	return errors.Join(errs...)
}

// commonFlags are the flags every command shares.
type commonFlags struct {
	configFile string
	kb         multiFlag
	dataDir    string
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func (cf *commonFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&cf.configFile, "config", "", "settings file (JSON)")
	fs.Var(&cf.kb, "kb", "extra knowledge folder (repeatable)")
	fs.StringVar(&cf.dataDir, "data-dir", "", "data directory")
}

// load builds the Config from defaults, file, environment and flags.
func (cf *commonFlags) load(getenv func(string) string) (Config, error) {
	c := defaultConfig()
	file := cf.configFile
	if file == "" {
		file = getenv("POLICYBOT_CONFIG")
	}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return c, fmt.Errorf("config: %w", err)
		}
		dec := json.NewDecoder(strings.NewReader(string(data)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return c, fmt.Errorf("config: %s: %w", file, err)
		}
	}
	if err := applyEnv(&c, getenv); err != nil {
		return c, err
	}
	if cf.dataDir != "" {
		c.DataDir = cf.dataDir
	}
	c.KBDirs = append(c.KBDirs, cf.kb...)
	return c, c.Validate()
}

// applyEnv sets each field whose POLICYBOT_<JSON_KEY> variable is set.
func applyEnv(c *Config, getenv func(string) string) error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	var errs []error
	for i := 0; i < t.NumField(); i++ {
		key := strings.Split(t.Field(i).Tag.Get("json"), ",")[0]
		name := "POLICYBOT_" + strings.ToUpper(key)
		val := getenv(name)
		if val == "" {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(val)
		case reflect.Float64:
			x, err := strconv.ParseFloat(val, 64)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a number", name, val))
				continue
			}
			f.SetFloat(x)
		case reflect.Int64:
			if f.Type() != reflect.TypeOf(Duration(0)) {
				x, err := strconv.ParseInt(val, 10, 64)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, val))
					continue
				}
				f.SetInt(x)
				continue
			}
			x, err := parseDuration(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a duration such as 1s", name, val))
				continue
			}
			f.SetInt(int64(x))
		case reflect.Int:
			x, err := strconv.Atoi(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not a whole number", name, val))
				continue
			}
			f.SetInt(int64(x))
		case reflect.Bool:
			x, err := strconv.ParseBool(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, val))
				continue
			}
			f.SetBool(x)
		case reflect.Pointer: // *bool
			x, err := strconv.ParseBool(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %q is not true or false", name, val))
				continue
			}
			f.Set(reflect.ValueOf(&x))
		case reflect.Slice:
			sep := string(os.PathListSeparator)
			if key == "redis_addrs" || key == "channels" || key == "trusted_proxies" {
				sep = ","
			}
			f.Set(reflect.ValueOf(strings.Split(val, sep)))
		case reflect.Map: // templates: kind=id,kind=id; channel_rates: wecom=10,custom=20
			m := reflect.MakeMap(f.Type())
			for _, pair := range strings.Split(val, ",") {
				k, v, ok := strings.Cut(pair, "=")
				if !ok {
					errs = append(errs, fmt.Errorf("%s: want key=value,key=value, got %q", name, val))
					break
				}
				k, v = strings.TrimSpace(k), strings.TrimSpace(v)
				if f.Type().Elem().Kind() == reflect.Float64 {
					x, err := strconv.ParseFloat(v, 64)
					if err != nil {
						errs = append(errs, fmt.Errorf("%s: %q is not a number", name, v))
						break
					}
					m.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(x))
				} else {
					m.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(v))
				}
			}
			f.Set(m)
		}
	}
	return errors.Join(errs...)
}

// maskURL hides what may be a credential in a URL: the password, a user
// name standing alone (a token written as user@host), and query values
// ("https://****@host/v1?key=****").
func maskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else {
			u.User = url.User("****")
		}
	}
	if q := u.Query(); len(q) > 0 {
		for k := range q {
			q.Set(k, "****")
		}
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// Masked returns the configuration as JSON with every secret hidden.
func (c Config) Masked() map[string]any {
	out := map[string]any{}
	v := reflect.ValueOf(c)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		key := strings.Split(f.Tag.Get("json"), ",")[0]
		val := v.Field(i).Interface()
		switch f.Tag.Get("secret") {
		case "all":
			if s, _ := val.(string); s != "" {
				val = "****"
			}
		case "password":
			val = maskURL(val.(string))
		}
		if d, ok := val.(Duration); ok {
			val = time.Duration(d).String()
		}
		if b, ok := val.(*bool); ok {
			if b == nil {
				val = "auto"
			} else {
				val = *b
			}
		}
		out[key] = val
	}
	return out
}

// LocalMode is true when no WeChat account is configured: serve then
// generates a token, serves the simulator and sends nothing to WeChat.
func (c Config) LocalMode() bool {
	return c.WeChatToken == "" && c.WeChatAppID == "" && c.WeChatSecret == "" && c.WeChatAESKey == ""
}
