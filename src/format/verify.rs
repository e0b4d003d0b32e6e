//! The safety net: formatted text must load to the same documents as the
//! original (compared as values: mapping order aside, every scalar typed as
//! stetho types it) and hold the same comments. Anything else is a bug in
//! the formatter, and the file is left as it was.

use crate::backend::sigma::emit::plain_safe;
use crate::source::yaml::{Node, NodeKind};

/// Why formatted text is not the same as its source (a path into the
/// document, or what differs).
pub fn same_documents(before: &[Node], after: &[Node]) -> Result<(), String> {
    if before.len() != after.len() {
        return Err(format!("{} documents became {}", before.len(), after.len()));
    }
    for (i, (a, b)) in before.iter().zip(after).enumerate() {
        same(a, b, &format!("document {}", i + 1))?;
    }
    Ok(())
}

fn same(a: &Node, b: &Node, path: &str) -> Result<(), String> {
    let differs = || Err(format!("`{path}` reads back differently"));
    match (&a.kind, &b.kind) {
        (NodeKind::Scalar(x), NodeKind::Scalar(y)) => {
            // Plain on one side and quoted on the other is only the same
            // for text every YAML reader takes as a string.
            let requoted = x.style.is_quoted() != y.style.is_quoted();
            if x.typed() != y.typed() || (requoted && !plain_safe(&x.text)) {
                return differs();
            }
        }
        (NodeKind::Seq(xs), NodeKind::Seq(ys)) => {
            if xs.len() != ys.len() {
                return differs();
            }
            for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                same(x, y, &format!("{path}/{i}"))?;
            }
        }
        (NodeKind::Map(xs), NodeKind::Map(ys)) => {
            if xs.len() != ys.len() {
                return differs();
            }
            for x in xs {
                let key = x.key.as_scalar();
                let Some(y) = ys
                    .iter()
                    .find(|y| y.key.as_scalar().map(|k| k.typed()) == key.map(|k| k.typed()))
                else {
                    return Err(format!("`{path}/{}` is missing", x.key_str()));
                };
                same(&x.value, &y.value, &format!("{path}/{}", x.key_str()))?;
            }
        }
        _ => return differs(),
    }
    Ok(())
}

/// The same comments, each as often, whatever their order.
pub fn same_comments(mut before: Vec<String>, mut after: Vec<String>) -> Result<(), String> {
    before.sort();
    after.sort();
    if before == after {
        return Ok(());
    }
    let lost = before.iter().find(|c| !after.contains(c));
    Err(match lost {
        Some(c) => format!("the comment `{c}` would be lost"),
        None => "the comments would change".to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::yaml::load;

    fn check(a: &str, b: &str) -> Result<(), String> {
        same_documents(&load(a).documents, &load(b).documents)
    }

    #[test]
    fn key_order_and_quoting_do_not_matter_types_do() {
        assert!(check("a: 'x'\nb: [1, 2]\n", "b:\n  - 1\n  - 2\na: x\n").is_ok());
        assert!(check("a: '5'\n", "a: 5\n").is_err());
        assert!(check("a: 'x'\n", "a: \"x\"\n").is_ok());
        // The same to stetho, not to a YAML 1.1 reader.
        assert!(check("a: '2024-01-01'\n", "a: 2024-01-01\n").is_err());
        assert!(check("a: 'yes'\n", "a: yes\n").is_err());
        assert!(check("a: x\n", "a: y\n").is_err());
        assert!(check("a: x\n", "a: x\n---\na: x\n").is_err());
    }

    #[test]
    fn comments_compare_as_a_multiset() {
        let v = |s: &[&str]| s.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert!(same_comments(v(&["# a", "# b"]), v(&["# b", "# a"])).is_ok());
        assert!(same_comments(v(&["# a", "# a"]), v(&["# a"])).is_err());
    }
}
