"""The admin's styles use Shopify's design tokens, built from @shopify/polaris-tokens.

The built CSS is committed (the app runs without npm); ``scripts/build-polaris-tokens`` rebuilds
it. Tests cannot reach npm, so they check what a rebuild could break: every token the admin's
stylesheet uses is defined by the committed tokens file, and that file is the package's CSS.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ROOT / "static" / "polaris-tokens.css"
OURS = ROOT / "static" / "kanta.css"


def test_the_tokens_file_is_the_packages_css_at_the_scripts_version() -> None:
    script = (ROOT / "scripts" / "build-polaris-tokens").read_text()
    version = re.search(r'^VERSION="([0-9.]+)"', script, re.MULTILINE)
    assert version is not None
    header = TOKENS.read_text().splitlines()[0]
    assert f"@shopify/polaris-tokens {version.group(1)}, dist/css/styles.css" in header
    assert TOKENS.read_text().count("--p-color-bg-surface:") >= 1


def test_every_token_the_admin_uses_is_defined() -> None:
    defined = set(re.findall(r"(--p-[a-z0-9-]+)\s*:", TOKENS.read_text()))
    used = set(re.findall(r"var\((--p-[a-z0-9-]+)\)", OURS.read_text()))
    assert used, "kanta.css should be styled with Polaris tokens"
    assert sorted(used - defined) == []


def test_the_admin_styles_use_no_hard_coded_colours() -> None:
    css = OURS.read_text()
    assert re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\(", css) == []
