package main

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"policybot/handlers"
	"policybot/llm"
)

// ModelSettings: an OpenAI-compatible model writes friendlier answers
// from the same passages; with no llm_model the extractive answers are
// unchanged.
type ModelSettings struct {
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

func defaultModel() ModelSettings {
	return ModelSettings{LLMTimeout: Duration(handlers.DefaultFollowUpWait), LLMPassive: Duration(handlers.DefaultPassive), LLMMaxTokens: llm.DefaultMaxTokens,
		LLMPerUserPerMinute: llm.DefaultPerUserPerMinute, LLMPerMinute: llm.DefaultPerMinute, LLMDailyTokens: 1_000_000}
}

func (c ModelSettings) validate() (errs []error) {
	if c.LLMModel == "" {
		return nil
	}
	if c.LLMPassive <= 0 || c.LLMPassive > Duration(4*time.Second) {
		errs = append(errs, errors.New("llm_passive: between 0 and 4s (the reply must leave within WeChat's 5 s)"))
	}
	if c.LLMBaseURL != "" {
		if u, err := url.Parse(c.LLMBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("llm_base_url: %q is not an http(s) address", maskURL(c.LLMBaseURL)))
		}
	}
	return errs
}

// EmbedSettings: semantic retrieval (optional). With embed_model set,
// passages and questions are embedded through an OpenAI-compatible
// embeddings endpoint and ranked by meaning as well as by words.
type EmbedSettings struct {
	EmbedModel   string   `json:"embed_model"`
	EmbedBaseURL string   `json:"embed_base_url" secret:"password"`
	EmbedAPIKey  string   `json:"embed_api_key" secret:"all"`
	EmbedTimeout Duration `json:"embed_timeout"`
}

func defaultEmbed() EmbedSettings {
	return EmbedSettings{EmbedTimeout: Duration(handlers.DefaultEmbedTimeout)}
}

func (c EmbedSettings) validate() (errs []error) {
	if c.EmbedModel == "" {
		return nil
	}
	if c.EmbedBaseURL != "" {
		if u, err := url.Parse(c.EmbedBaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("embed_base_url: %q is not an http(s) address", maskURL(c.EmbedBaseURL)))
		}
	}
	if c.EmbedTimeout <= 0 || c.EmbedTimeout > Duration(3*time.Second) {
		errs = append(errs, errors.New("embed_timeout: between 0 and 3s (a question waits for it within WeChat's 5 s)"))
	}
	return errs
}
