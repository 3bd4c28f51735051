//! Solidity front end: bounded parse with `solang-parser`, then a contract model.
//!
//! Old syntax the parser lacks is rewritten first without changing any line: `throw;`
//! becomes `revert();` (same meaning). Lines are 1-based and computed from byte
//! offsets of the rewritten text, whose newlines are the original ones.
//!
//! The model ([`Program`]) lists contracts with their state variables (inherited ones
//! included, for bases defined in the same file), functions and modifiers, each
//! function with its [`facts::Facts`].

pub mod facts;
pub mod walk;

use crate::{AuditError, MAX_SOURCE_BYTES};
use solang_parser::pt::{
    self, ContractPart, ContractTy, FunctionAttribute, FunctionTy, Loc, SourceUnitPart,
    VariableAttribute, Visibility,
};
use std::collections::{BTreeMap, BTreeSet};

/// Maps byte offsets to 1-based lines.
#[derive(Debug, Clone)]
pub struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    pub fn new(src: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts }
    }

    pub fn line(&self, offset: usize) -> u32 {
        let i = self.starts.partition_point(|&s| s <= offset);
        u32::try_from(i.max(1)).unwrap_or(u32::MAX)
    }

    pub fn of(&self, loc: &Loc) -> u32 {
        match loc {
            Loc::File(_, start, _) => self.line(*start),
            _ => 0,
        }
    }
}

/// Start byte offset of a location (0 when it has none).
pub fn start(loc: &Loc) -> usize {
    match loc {
        Loc::File(_, s, _) => *s,
        _ => 0,
    }
}

/// End byte offset of a location.
pub fn end(loc: &Loc) -> usize {
    match loc {
        Loc::File(_, _, e) => *e,
        _ => 0,
    }
}

/// A state variable.
#[derive(Debug, Clone)]
pub struct StateVar {
    pub name: String,
    /// Type as written, e.g. `mapping(address => uint256)` or `address`.
    pub ty: String,
    pub constant: bool,
    pub public: bool,
    pub line: u32,
    pub initialized: bool,
    /// Block values read by the initializer (`uint salt = block.timestamp`).
    pub init_env: Vec<walk::EnvKind>,
}

/// A function, constructor, fallback, receive or modifier.
#[derive(Debug)]
pub struct Function<'a> {
    pub name: String,
    pub kind: FunctionTy,
    /// Old-style constructor: a function named like its contract (before 0.5).
    pub is_constructor: bool,
    pub public: bool,
    pub view: bool,
    pub payable: bool,
    pub modifiers: Vec<String>,
    pub params: Vec<(String, String)>,
    pub line: u32,
    pub def: &'a pt::FunctionDefinition,
    pub facts: facts::Facts,
}

/// A contract, interface or library.
#[derive(Debug)]
pub struct Contract<'a> {
    pub name: String,
    pub is_library: bool,
    pub is_interface: bool,
    pub bases: Vec<String>,
    pub line: u32,
    pub state: Vec<StateVar>,
    pub functions: Vec<Function<'a>>,
    pub modifiers: Vec<Function<'a>>,
}

impl Contract<'_> {
    pub fn state_var(&self, name: &str) -> Option<&StateVar> {
        self.state.iter().find(|v| v.name == name)
    }
}

/// A parsed source file.
#[derive(Debug)]
pub struct Program<'a> {
    pub pragma: Option<String>,
    /// (major, minor) of the lowest version the pragma allows, if known.
    pub version: Option<(u32, u32)>,
    pub lines: Lines,
    pub contracts: Vec<Contract<'a>>,
    /// Struct names defined anywhere in the file.
    pub structs: BTreeSet<String>,
    /// Contract/interface/library names defined in the file.
    pub contract_names: BTreeSet<String>,
    /// Library names defined in the file (calls on them are internal).
    pub libraries: BTreeSet<String>,
    /// Field or variable name -> declared type name, file-wide (first declaration wins);
    /// used to tell calls on contract-typed values from other member calls.
    pub types: BTreeMap<String, String>,
}

/// The parse tree and the rewritten text it was parsed from.
#[derive(Debug)]
pub struct Parsed {
    pub text: String,
    pub unit: pt::SourceUnit,
}

impl Parsed {
    /// Rewrites old syntax, parses, and checks the pragma.
    pub fn new(src: &str) -> Result<Parsed, AuditError> {
        if src.len() > MAX_SOURCE_BYTES {
            return Err(AuditError::SourceTooLarge(src.len()));
        }
        if src.trim().is_empty() {
            return Err(AuditError::EmptySource);
        }
        let text = rewrite_throw(src);
        let lines = Lines::new(&text);
        let (unit, _comments) = solang_parser::parse(&text, 0).map_err(|diags| {
            let d = diags.first();
            AuditError::Parse {
                line: d.map(|d| lines.of(&d.loc) as usize).unwrap_or(0),
                message: d
                    .map(|d| d.message.chars().take(200).collect())
                    .unwrap_or_else(|| "unknown error".into()),
            }
        })?;
        Ok(Parsed { text, unit })
    }
}

impl<'a> Program<'a> {
    /// Builds the model over a parse tree.
    pub fn build(parsed: &'a Parsed) -> Result<Program<'a>, AuditError> {
        let lines = Lines::new(&parsed.text);
        let mut pragma = None;
        let mut structs = BTreeSet::new();
        let mut contract_names = BTreeSet::new();
        let mut libraries = BTreeSet::new();
        let mut types = BTreeMap::new();
        for part in &parsed.unit.0 {
            match part {
                SourceUnitPart::PragmaDirective(p) => {
                    if let pt::PragmaDirective::Version(_, id, comps) = p.as_ref()
                        && id.name == "solidity"
                    {
                        pragma = Some(
                            comps
                                .iter()
                                .map(|c| c.to_string())
                                .collect::<Vec<_>>()
                                .join(" "),
                        );
                    }
                }
                SourceUnitPart::ContractDefinition(c) => {
                    if let Some(n) = &c.name {
                        contract_names.insert(n.name.clone());
                        if matches!(c.ty, ContractTy::Library(_)) {
                            libraries.insert(n.name.clone());
                        }
                    }
                    for p in &c.parts {
                        collect_types(p, &mut structs, &mut types);
                    }
                }
                SourceUnitPart::StructDefinition(s) => note_struct(s, &mut structs, &mut types),
                _ => {}
            }
        }
        let version = match &pragma {
            Some(p) => Some(parse_version(p)?),
            None => None,
        };
        let mut program = Program {
            pragma,
            version,
            lines,
            contracts: Vec::new(),
            structs,
            contract_names,
            libraries,
            types,
        };
        // First pass: own state variables per contract, to resolve inheritance.
        let defs: Vec<&pt::ContractDefinition> = parsed
            .unit
            .0
            .iter()
            .filter_map(|p| match p {
                SourceUnitPart::ContractDefinition(c) => Some(c.as_ref()),
                _ => None,
            })
            .collect();
        let own_state: BTreeMap<String, Vec<StateVar>> = defs
            .iter()
            .map(|c| (name_of(&c.name), own_state_vars(c, &program.lines)))
            .collect();
        let bases_of: BTreeMap<String, Vec<String>> = defs
            .iter()
            .map(|c| {
                let b = c
                    .base
                    .iter()
                    .filter_map(|b| b.name.identifiers.last().map(|i| i.name.clone()))
                    .collect();
                (name_of(&c.name), b)
            })
            .collect();
        for c in &defs {
            let name = name_of(&c.name);
            let mut state = Vec::new();
            let mut seen = BTreeSet::new();
            inherited_state(&name, &own_state, &bases_of, &mut state, &mut seen);
            let mut contract = Contract {
                is_library: matches!(c.ty, ContractTy::Library(_)),
                is_interface: matches!(c.ty, ContractTy::Interface(_)),
                bases: bases_of.get(&name).cloned().unwrap_or_default(),
                line: program.lines.of(&c.loc),
                name,
                state,
                functions: Vec::new(),
                modifiers: Vec::new(),
            };
            for part in &c.parts {
                if let ContractPart::FunctionDefinition(f) = part {
                    let func = program.function(&contract, f);
                    if f.ty == FunctionTy::Modifier {
                        contract.modifiers.push(func);
                    } else {
                        contract.functions.push(func);
                    }
                }
            }
            program.contracts.push(contract);
        }
        Ok(program)
    }

    /// Whether arithmetic wraps silently (before 0.8, or no pragma).
    pub fn unchecked_arithmetic(&self) -> bool {
        self.version.is_none_or(|(_, minor)| minor < 8)
    }

    /// Whether the version is before 0.5 (old constructors, default storage locals).
    pub fn before_0_5(&self) -> bool {
        self.version.is_none_or(|(_, minor)| minor < 5)
    }

    fn function(&self, contract: &Contract<'_>, f: &'a pt::FunctionDefinition) -> Function<'a> {
        let name = f.name.as_ref().map(|n| n.name.clone()).unwrap_or_default();
        let mut public = matches!(f.ty, FunctionTy::Fallback | FunctionTy::Receive);
        let mut explicit_vis = false;
        let mut view = false;
        let mut payable = false;
        let mut modifiers = Vec::new();
        for a in &f.attributes {
            match a {
                FunctionAttribute::Visibility(v) => {
                    explicit_vis = true;
                    public = matches!(v, Visibility::Public(_) | Visibility::External(_));
                }
                FunctionAttribute::Mutability(m) => match m {
                    pt::Mutability::Pure(_)
                    | pt::Mutability::View(_)
                    | pt::Mutability::Constant(_) => view = true,
                    pt::Mutability::Payable(_) => payable = true,
                },
                FunctionAttribute::BaseOrModifier(_, b) => {
                    if let Some(i) = b.name.identifiers.last() {
                        modifiers.push(i.name.clone());
                    }
                }
                _ => {}
            }
        }
        // Before 0.5 a function without visibility is public.
        if !explicit_vis && f.ty == FunctionTy::Function {
            public = true;
        }
        let is_constructor = f.ty == FunctionTy::Constructor
            || (f.ty == FunctionTy::Function && !name.is_empty() && name == contract.name);
        let params = f
            .params
            .iter()
            .filter_map(|(_, p)| p.as_ref())
            .map(|p| {
                (
                    p.name.as_ref().map(|n| n.name.clone()).unwrap_or_default(),
                    p.ty.to_string(),
                )
            })
            .collect();
        let facts = facts::Facts::collect(self, contract, f);
        Function {
            name,
            kind: f.ty,
            is_constructor,
            public,
            view,
            payable,
            modifiers,
            params,
            line: self.lines.of(&f.loc),
            def: f,
            facts,
        }
    }
}

fn name_of(id: &Option<pt::Identifier>) -> String {
    id.as_ref().map(|n| n.name.clone()).unwrap_or_default()
}

fn collect_types(
    part: &ContractPart,
    structs: &mut BTreeSet<String>,
    types: &mut BTreeMap<String, String>,
) {
    match part {
        ContractPart::StructDefinition(s) => note_struct(s, structs, types),
        ContractPart::VariableDefinition(v) => {
            if let Some(n) = &v.name {
                types.entry(n.name.clone()).or_insert(v.ty.to_string());
            }
        }
        _ => {}
    }
}

/// Records a struct's name and its fields' types.
fn note_struct(
    s: &pt::StructDefinition,
    structs: &mut BTreeSet<String>,
    types: &mut BTreeMap<String, String>,
) {
    if let Some(n) = &s.name {
        structs.insert(n.name.clone());
    }
    for f in &s.fields {
        if let Some(n) = &f.name {
            types.entry(n.name.clone()).or_insert(f.ty.to_string());
        }
    }
}

fn own_state_vars(c: &pt::ContractDefinition, lines: &Lines) -> Vec<StateVar> {
    c.parts
        .iter()
        .filter_map(|p| match p {
            ContractPart::VariableDefinition(v) => Some(StateVar {
                name: name_of(&v.name),
                ty: v.ty.to_string(),
                constant: v
                    .attrs
                    .iter()
                    .any(|a| matches!(a, VariableAttribute::Constant(_))),
                public: v
                    .attrs
                    .iter()
                    .any(|a| matches!(a, VariableAttribute::Visibility(Visibility::Public(_)))),
                line: lines.of(&v.loc),
                initialized: v.initializer.is_some(),
                init_env: v.initializer.as_ref().map_or_else(Vec::new, |e| {
                    let mut k = Vec::new();
                    walk::exprs(e, &mut |x| k.extend(walk::env_kind(x)));
                    k
                }),
            }),
            _ => None,
        })
        .collect()
}

fn inherited_state(
    name: &str,
    own: &BTreeMap<String, Vec<StateVar>>,
    bases: &BTreeMap<String, Vec<String>>,
    out: &mut Vec<StateVar>,
    seen: &mut BTreeSet<String>,
) {
    if !seen.insert(name.to_string()) {
        return;
    }
    for b in bases.get(name).into_iter().flatten() {
        inherited_state(b, own, bases, out, seen);
    }
    out.extend(own.get(name).into_iter().flatten().cloned());
}

/// Rewrites `throw;` (removed in 0.5, unknown to the parser) as `revert();`, outside
/// comments and strings, keeping every newline in place.
fn rewrite_throw(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = String::with_capacity(src.len() + 64);
    let mut i = 0;
    let mut last = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            q @ (b'"' | b'\'') => {
                i += 1;
                while i < b.len() && b[i] != q && b[i] != b'\n' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b't' if src[i..].starts_with("throw")
                && (i == 0 || !is_ident(b[i - 1]))
                && !b.get(i + 5).is_some_and(|&c| is_ident(c)) =>
            {
                out.push_str(&src[last..i]);
                out.push_str("revert()");
                i += 5;
                last = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&src[last.min(src.len())..]);
    out
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Lowest (major, minor) a version pragma allows; errors outside 0.4 to 0.8.
fn parse_version(pragma: &str) -> Result<(u32, u32), AuditError> {
    let digits: String = pragma
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let mut parts = digits.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(0), Some(minor)) if (4..=8).contains(&minor) => Ok((0, minor)),
        _ => Err(AuditError::UnsupportedPragma(pragma.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throw_rewritten_outside_comments_and_strings() {
        let s = "if (x) throw; // throw\nstring s = \"throw\"; thrower();";
        let r = rewrite_throw(s);
        assert_eq!(
            r,
            "if (x) revert(); // throw\nstring s = \"throw\"; thrower();"
        );
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("^0.4.24").ok(), Some((0, 4)));
        assert_eq!(parse_version(">=0.8.0 <0.9.0").ok(), Some((0, 8)));
        assert!(parse_version("^0.3.1").is_err());
        assert!(parse_version("^0.9.0").is_err());
    }

    #[test]
    fn lines_from_offsets() {
        let l = Lines::new("a\nbc\n\nd");
        assert_eq!(l.line(0), 1);
        assert_eq!(l.line(2), 2);
        assert_eq!(l.line(5), 3);
        assert_eq!(l.line(6), 4);
    }
}
