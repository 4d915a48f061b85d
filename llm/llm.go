// Package llm adapts an OpenAI-compatible chat endpoint (DeepSeek, Qwen,
// vLLM, Ollama, OpenAI) to handlers.Model with github.com/sashabaranov/go-openai.
// It streams the reply, so a stalled stream is noticed by the deadline,
// and sorts failures into retryable (429, 5xx, timeouts, broken streams)
// and not.
package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"policybot/handlers"
)

// Options configure a Client.
type Options struct {
	BaseURL     string // e.g. https://api.deepseek.com/v1; empty: OpenAI
	APIKey      string // never logged
	Model       string
	MaxTokens   int           // default 400
	Temperature float32       // default 0.2
	Timeout     time.Duration // bound on one call, on top of the caller's context (default 30 s)
	HTTP        *http.Client
}

// Client is a handlers.Model.
type Client struct {
	c    *openai.Client
	opts Options
}

// DefaultMaxTokens bounds a reply unless Options say otherwise.
const DefaultMaxTokens = 400

// New returns a client for opts.
func New(opts Options) (*Client, error) {
	if opts.Model == "" {
		return nil, errors.New("llm: no model configured")
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = DefaultMaxTokens
	}
	if opts.Temperature == 0 {
		opts.Temperature = 0.2
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	return &Client{c: newOpenAI(opts.BaseURL, opts.APIKey, opts.HTTP, opts.Timeout), opts: opts}, nil
}

// newOpenAI is a go-openai client for an OpenAI-compatible endpoint
// (baseURL empty: OpenAI), with an HTTP client bounded by timeout unless
// one is given.
func newOpenAI(baseURL, apiKey string, hc *http.Client, timeout time.Duration) *openai.Client {
	cfg := openai.DefaultConfig(apiKey)
	if baseURL != "" {
		cfg.BaseURL = strings.TrimRight(baseURL, "/")
	}
	if hc != nil {
		cfg.HTTPClient = hc
	} else {
		cfg.HTTPClient = &http.Client{Timeout: timeout}
	}
	return openai.NewClientWithConfig(cfg)
}

// Chat implements handlers.Model: a streamed chat completion, collected.
func (c *Client) Chat(ctx context.Context, system, user string) (handlers.Completion, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	req := openai.ChatCompletionRequest{
		Model:         c.opts.Model,
		MaxTokens:     c.opts.MaxTokens,
		Temperature:   c.opts.Temperature,
		Stream:        true,
		StreamOptions: &openai.StreamOptions{IncludeUsage: true},
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: system},
			{Role: openai.ChatMessageRoleUser, Content: user},
		},
	}
	stream, err := c.c.CreateChatCompletionStream(ctx, req)
	if err != nil {
		return handlers.Completion{}, classify(ctx, err)
	}
	defer stream.Close()
	var out handlers.Completion
	var b strings.Builder
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, classify(ctx, err)
		}
		for _, ch := range resp.Choices {
			b.WriteString(ch.Delta.Content)
		}
		if resp.Usage != nil {
			out.PromptTokens, out.CompletionTokens = resp.Usage.PromptTokens, resp.Usage.CompletionTokens
		}
	}
	out.Text = b.String()
	if out.CompletionTokens == 0 { // servers that do not report usage: estimate
		out.CompletionTokens = len([]rune(out.Text))
		out.PromptTokens = len([]rune(system + user))
	}
	return out, nil
}

// classify turns go-openai's errors into handlers.ModelError.
func classify(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return &handlers.ModelError{Retryable: true, Reason: "timeout", Err: ctx.Err()}
	}
	var apiErr *openai.APIError
	if errors.As(err, &apiErr) {
		code := apiErr.HTTPStatusCode
		return &handlers.ModelError{Retryable: code == 429 || code >= 500, Reason: fmt.Sprint(code), Err: err}
	}
	var reqErr *openai.RequestError
	if errors.As(err, &reqErr) {
		code := reqErr.HTTPStatusCode
		return &handlers.ModelError{Retryable: code == 429 || code >= 500, Reason: fmt.Sprint(code), Err: err}
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return &handlers.ModelError{Retryable: true, Reason: "network", Err: err}
	}
	// a stream that breaks off or does not parse
	return &handlers.ModelError{Retryable: true, Reason: "stream", Err: err}
}
