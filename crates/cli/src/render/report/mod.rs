//! `netpol report`: one self-contained HTML page (inline CSS, script and
//! SVG; nothing fetched) built by its script from the data embedded in it.

pub mod data;

const PAGE: &str = include_str!("page.html");
const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// The page with `data` (JSON text) embedded.
pub fn html(title: &str, data: &str) -> String {
    // `</` inside the JSON would end the script element; `<\/` is the same JSON.
    let json = data.replace("</", "<\\/");
    PAGE.replace("{{TITLE}}", &escape(title))
        .replace("{{CSS}}", CSS)
        .replace("{{JS}}", JS)
        .replace("{{DATA}}", &json)
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
        let page = html("a<b", &data);
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
