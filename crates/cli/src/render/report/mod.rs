//! `netpol report`: one self-contained HTML page (inline CSS, script and
//! SVG; nothing fetched) built by its script from the data embedded in it.

pub mod by_namespace;
pub mod data;
mod picker;

use std::borrow::Cow;
use std::io::{self, Write};

const PAGE: &str = include_str!("page.html");
const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// The page around its data, which is written in between as it is made.
pub struct Page {
    before: String,
    after: String,
}

impl Page {
    /// How every report begins, up to its title (its Content-Security-Policy
    /// and `<title>netpol: ` included): what tells a file netpol may overwrite.
    pub fn signature() -> &'static str {
        PAGE.split_once("{{TITLE}}")
            .expect("the page has a title")
            .0
    }

    pub fn new(title: &str) -> Page {
        let (before, after) = PAGE
            .split_once("{{DATA}}")
            .expect("the page has a place for its data");
        let fill = |part: &str| {
            part.replace("{{TITLE}}", &escape(title))
                .replace("{{CSS}}", CSS)
                .replace("{{JS}}", JS)
        };
        Page {
            before: fill(before),
            after: fill(after),
        }
    }

    /// The page, `data` writing the JSON text (made [`script_safe`]).
    pub fn write<W: Write + ?Sized>(
        &self,
        out: &mut W,
        data: impl FnOnce(&mut W) -> io::Result<()>,
    ) -> io::Result<()> {
        out.write_all(self.before.as_bytes())?;
        data(out)?;
        out.write_all(self.after.as_bytes())
    }
}

/// JSON text that cannot end the script element it is in: `</` would, and
/// `<\/` is the same JSON.
pub fn script_safe(json: &str) -> Cow<'_, str> {
    if json.contains("</") {
        Cow::Owned(json.replace("</", "<\\/"))
    } else {
        Cow::Borrowed(json)
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_cannot_end_its_script_element() {
        let data = serde_json::json!({"x": "</script><script>alert(1)"}).to_string();
        let mut page = Vec::new();
        Page::new("a<b")
            .write(&mut page, |out| {
                out.write_all(script_safe(&data).as_bytes())
            })
            .unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains("<title>netpol: a&lt;b</title>"));
        assert_eq!(
            page.matches("</script>").count(),
            2,
            "the data and the code close once each"
        );
        for fetch in [
            "src=\"http",
            "href=\"http",
            "url(http",
            "url(//",
            "@import",
            "fetch(",
            "XMLHttpRequest",
        ] {
            assert!(!page.contains(fetch), "nothing fetched: {fetch}");
        }
    }
}
