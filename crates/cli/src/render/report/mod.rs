//! `netpol report`: one self-contained HTML page (inline CSS, script and
//! SVG; nothing fetched) built by its script from the data embedded in it.

pub mod data;

const PAGE: &str = include_str!("page.html");
const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");

/// The page with `data` embedded as JSON.
pub fn html(data: &serde_json::Value) -> String {
    let title = data["title"].as_str().unwrap_or("netpol report");
    // `</` inside the JSON would end the script element; `<\/` is the same JSON.
    let json = serde_json::to_string(data)
        .expect("report data serializes")
        .replace("</", "<\\/");
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
        let page = html(&serde_json::json!({"title": "a<b", "x": "</script><script>alert(1)"}));
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
