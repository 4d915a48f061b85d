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
)

// Config is every setting of policybot, in sections (settings.go). Values
// come from the defaults, then the --config file (JSON, keys as in the
// json tags, one flat object), then the environment (POLICYBOT_ + the json
// key in upper snake case), then flags.
type Config struct {
	GeneralSettings
	StoreSettings
	WeChatSettings
	QuizSettings
	ReminderSettings
	DeliverySettings
	ConsoleSettings
	ModelSettings
	EmbedSettings
}

func defaultConfig() Config {
	return Config{GeneralSettings: defaultGeneral(), StoreSettings: defaultStore(), WeChatSettings: defaultWeChat(),
		QuizSettings: defaultQuiz(), ReminderSettings: defaultReminders(), DeliverySettings: defaultDelivery(),
		ConsoleSettings: defaultConsole(), ModelSettings: defaultModel(), EmbedSettings: defaultEmbed()}
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

// Validate reports every problem at once, in words an operator can act on:
// each section checks its own values.
func (c *Config) Validate() error {
	var errs []error
	for _, section := range [][]error{c.GeneralSettings.validate(), c.StoreSettings.validate(), c.WeChatSettings.validate(),
		c.QuizSettings.validate(), c.ReminderSettings.validate(), c.DeliverySettings.validate(), c.ConsoleSettings.validate(),
		c.ModelSettings.validate(), c.EmbedSettings.validate()} {
		errs = append(errs, section...)
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

// settingField is one setting: its field (tags) and value.
type settingField struct {
	f reflect.StructField
	v reflect.Value
}

func (s settingField) key() string { return strings.Split(s.f.Tag.Get("json"), ",")[0] }

// settingFields lists the settings of v (a Config), the fields of its
// embedded sections in order.
func settingFields(v reflect.Value) []settingField {
	var out []settingField
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Anonymous {
			out = append(out, settingFields(v.Field(i))...)
			continue
		}
		out = append(out, settingField{t.Field(i), v.Field(i)})
	}
	return out
}

// applyEnv sets each field whose POLICYBOT_<JSON_KEY> variable is set.
func applyEnv(c *Config, getenv func(string) string) error {
	var errs []error
	for _, sf := range settingFields(reflect.ValueOf(c).Elem()) {
		key := sf.key()
		name := "POLICYBOT_" + strings.ToUpper(key)
		val := getenv(name)
		if val == "" {
			continue
		}
		f := sf.v
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
	for _, sf := range settingFields(reflect.ValueOf(c)) {
		key := sf.key()
		val := sf.v.Interface()
		switch sf.f.Tag.Get("secret") {
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
