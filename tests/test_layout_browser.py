"""Issue 30, items 5 and 7 in Chromium at desktop size: no text in the Models table
overflows its box or wraps a word letter by letter, and an empty lab's tables show no
placeholder headers. Screenshots go to artifacts/ (the `page` fixture)."""
import pytest

from conftest import open_tab
from playground import create_plugin_manager, create_registry
from playground.web.app import build_app

# Every visible element whose own text (the rectangle its text nodes cover) reaches past
# its box, and every word of one piece broken across several lines ("b/a/c/k/e/n/d").
OVERFLOWS = r"""(root) => {
  const bad = [];
  for (const el of root.querySelectorAll('*')) {
    const texts = [...el.childNodes].filter(n => n.nodeType === 3 && n.textContent.trim());
    // skip what is not shown (Gradio's table keeps a hidden copy of its rows to measure them,
    // its tab bar a 1-pixel "visually-hidden" copy of its buttons)
    if (!texts.length || !el.checkVisibility({visibilityProperty: true, opacityProperty: true})
        || el.closest('.visually-hidden')) continue;
    const own = texts.map(n => n.textContent.trim()).join(' ');
    const box = el.getBoundingClientRect();
    let height = 0;
    for (const node of texts) {
      const range = document.createRange();
      range.selectNodeContents(node);
      for (const line of range.getClientRects()) {
        if (line.width && (line.right > box.right + 1 || line.left < box.left - 1 || line.bottom > box.bottom + 1))
          bad.push('text outside its box: ' + own.slice(0, 40));
      }
      height += range.getBoundingClientRect().height;
    }
    const lineHeight = parseFloat(getComputedStyle(el).lineHeight) || 20;
    // a plot's rotated axis title (SVG "density" standing upright) is tall, not broken
    if (!/[\s-]/.test(own) && own.length > 3 && height > 2.5 * lineHeight && !el.closest('svg'))
      bad.push('one word on several lines: ' + own.slice(0, 40));
  }
  return bad;
}"""


@pytest.mark.browser
def test_models_table_text_fits_its_cells(serve, page):
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.temperature"), entry_points=False)
    page.goto(serve(build_app(pm, create_registry(pm, device="cpu"))))
    open_tab(page, "Models")
    table = page.locator("table").filter(has_text="backend").first
    table.wait_for()
    assert settled(table) == []


def settled(locator, seconds: float = 10.0) -> list:
    """The overflows found in ``locator`` once none are left, or after ``seconds`` (Gradio's
    table lays its columns out again after its first paint)."""
    found = locator.evaluate(OVERFLOWS)
    for _ in range(int(seconds * 4)):
        if not found:
            break
        locator.page.wait_for_timeout(250)
        found = locator.evaluate(OVERFLOWS)
    return found


@pytest.mark.browser
def test_an_empty_lab_shows_no_placeholder_headers(serve, page):
    pm = create_plugin_manager(builtins=("playground.contract.default_models", "plugins.temperature"), entry_points=False)
    page.goto(serve(build_app(pm, create_registry(pm, device="cpu"))))
    open_tab(page, "Temperature")
    page.get_by_text("(empty until you run)").first.wait_for()
    headers = page.locator("th").all_inner_texts()
    assert not {"1", "2", "3"} <= {h.strip() for h in headers}
