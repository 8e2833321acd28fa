"""吉林省企业职工基本养老保险公共服务平台 — the Jilin provincial pension service portal."""
