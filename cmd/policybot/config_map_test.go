package main

import "testing"

func TestMapSettingsFromTheEnvironment(t *testing.T) {
	env := map[string]string{"POLICYBOT_TEMPLATES": "visit=TPL1, deadline=TPL2", "POLICYBOT_CHANNEL_RATES": "wecom=10,custom=2.5"}
	c := defaultConfig()
	if err := applyEnv(&c, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.Templates["deadline"] != "TPL2" || c.ChannelRates["custom"] != 2.5 || c.ChannelRates["wecom"] != 10 {
		t.Errorf("templates %v, rates %v", c.Templates, c.ChannelRates)
	}
	env["POLICYBOT_CHANNEL_RATES"] = "wecom=fast"
	if err := applyEnv(&c, func(k string) string { return env[k] }); err == nil {
		t.Error("a rate that is not a number was accepted")
	}
}
