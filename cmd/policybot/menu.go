package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"policybot/bot"
	"policybot/handlers"
)

// defaultMenu is pushed when no --file is given: 政策问答 / 政策答题
// (开始答题, 本周排行) / 我的 (我的任务, 使用帮助).
var defaultMenu = map[string]any{"button": []map[string]any{
	{"type": "click", "name": "政策问答", "key": handlers.ClickAsk},
	{"name": "政策答题", "sub_button": []map[string]any{
		{"type": "click", "name": "开始答题", "key": handlers.ClickQuiz},
		{"type": "click", "name": "本周排行", "key": handlers.ClickRank},
	}},
	{"name": "我的", "sub_button": []map[string]any{
		{"type": "click", "name": "我的任务", "key": handlers.ClickTasks},
		{"type": "click", "name": "使用帮助", "key": handlers.ClickHelp},
	}},
}}

// cmdMenu: `policybot menu push [--file menu.json]` creates the custom menu.
func cmdMenu(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) int {
	c := newCommand("menu", stderr)
	file := c.String("file", "", `menu JSON ({"button": [...]}, WeChat's format); default: the built-in menu`)
	if len(args) == 0 || args[0] != "push" {
		fmt.Fprintln(stderr, "usage: policybot menu push [--file menu.json]")
		return 2
	}
	l, code := c.load(args[1:], needConfig)
	if code != 0 {
		return code
	}
	cfg := l.cfg
	if cfg.WeChatAppID == "" {
		fmt.Fprintln(stderr, "policybot: menu push needs wechat_appid and wechat_secret (POLICYBOT_WECHAT_APPID, POLICYBOT_WECHAT_SECRET)")
		return 1
	}
	body, err := json.Marshal(defaultMenu)
	if *file != "" {
		if body, err = os.ReadFile(*file); err == nil && !json.Valid(body) {
			err = fmt.Errorf("%s is not valid JSON", *file)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	configureSDK(cfg)
	st, err := openStore(cfg)
	if err != nil {
		fmt.Fprintln(stderr, "policybot:", err)
		return 1
	}
	defer st.Close()
	api := &bot.API{Base: cfg.WeChatAPIBase, HTTP: &http.Client{Timeout: 5 * time.Second},
		Tokens: bot.NewStableTokens(cfg.WeChatAppID, cfg.WeChatSecret, &bot.TokenCache{Store: st})}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := api.CreateMenu(ctx, body); err != nil {
		fmt.Fprintln(stderr, "policybot: menu push:", err)
		return 1
	}
	fmt.Fprintln(stdout, "menu pushed")
	return 0
}
