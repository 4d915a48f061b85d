package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
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
}

func defaultConfig() Config { return Config{DataDir: "data"} }

// Validate reports every problem at once, in words an operator can act on.
func (c *Config) Validate() error {
	var errs []error
	if c.DataDir == "" {
		errs = append(errs, errors.New("data_dir: must not be empty"))
	}
	if c.MinConfidence < 0 || c.MinConfidence > 1 {
		errs = append(errs, fmt.Errorf("min_confidence: %v is outside 0..1", c.MinConfidence))
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
		case reflect.Slice:
			f.Set(reflect.ValueOf(filepath.SplitList(val)))
		}
	}
	return errors.Join(errs...)
}
