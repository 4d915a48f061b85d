package handlers

// User-facing Chinese texts live here, together, so that wording is
// reviewed in one place and no handler hard-codes a reply.
const (
	// TextUnanswered is sent when the knowledge base does not hold the
	// answer. It never guesses and always says where to ask instead.
	TextUnanswered = "抱歉，政策文件里没有找到这个问题的明确答案，我不乱说。建议问问您的帮扶责任人或村委会，也可以回复「人工」转人工服务。您的问题已记下，我们会补充进知识库。"
	// TextEmptyQuestion answers an empty or blank question.
	TextEmptyQuestion = "请直接打字说出您想问的政策问题，比如：驻村干部一个月要在村里住多少天？"
)
