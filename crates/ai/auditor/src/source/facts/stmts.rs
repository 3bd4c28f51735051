//! Statement-level fact collection: blocks, branches, loops, declarations, returns and
//! `try`, each handing its expressions to [`Collector::expr`] with its context.

use super::{Collector, Ctx, Loop};
use crate::source::walk::{self, LowLevelKind};
use crate::source::{end, start};
use solang_parser::helpers::CodeLocation;
use solang_parser::pt::{self, Expression, Statement};

impl Collector<'_> {
    pub(super) fn stmt(&mut self, s: &Statement, ctx: &Ctx) {
        match s {
            Statement::Block { statements, .. } => {
                for st in statements {
                    self.stmt(st, ctx);
                }
            }
            Statement::If(_, cond, then, els) => {
                self.membership(cond);
                let c = Ctx {
                    in_cond: true,
                    reverting_if: reverts(then),
                    ..ctx.clone()
                };
                self.expr(cond, &c);
                self.stmt(then, ctx);
                if let Some(e) = els {
                    self.stmt(e, ctx);
                }
            }
            Statement::While(loc, cond, body) | Statement::DoWhile(loc, body, cond) => {
                let idx = self.push_loop(loc, Some(cond));
                let inner = Ctx {
                    in_loop: Some(idx),
                    ..ctx.clone()
                };
                self.expr(
                    cond,
                    &Ctx {
                        in_cond: true,
                        ..inner.clone()
                    },
                );
                self.stmt(body, &inner);
            }
            Statement::For(loc, init, cond, next, body) => {
                let idx = self.push_loop(loc, cond.as_deref());
                let inner = Ctx {
                    in_loop: Some(idx),
                    ..ctx.clone()
                };
                let header = Ctx {
                    loop_header: true,
                    ..inner.clone()
                };
                if let Some(i) = init {
                    self.stmt(i, &header);
                }
                if let Some(c) = cond {
                    self.expr(
                        c,
                        &Ctx {
                            in_cond: true,
                            ..header.clone()
                        },
                    );
                }
                if let Some(n) = next {
                    self.expr(n, &header);
                }
                if let Some(b) = body {
                    self.stmt(b, &inner);
                }
            }
            Statement::Expression(_, e) => {
                if matches!(walk::strip(e), Expression::Variable(id) if id.name == "_") {
                    self.facts.placeholder = Some(start(&e.loc()));
                    return;
                }
                if let Some(ll) = walk::low_level(e) {
                    // The result of a statement-level call is dropped.
                    let at = start(&walk::strip(e).loc());
                    self.expr(e, ctx);
                    if ll.kind != LowLevelKind::Transfer
                        && let Some(cs) = self.facts.calls.iter_mut().find(|c| c.start == at)
                    {
                        cs.unchecked = true;
                    }
                    return;
                }
                // `(bool ok, ) = a.call(..)`: remember `ok` to check it is read later.
                if let Expression::Assign(_, lhs, rhs) = walk::strip(e)
                    && walk::low_level(rhs).is_some()
                    && let Expression::List(_, params) = walk::strip(lhs)
                    && let Some(name) = params
                        .first()
                        .and_then(|(_, p)| p.as_ref())
                        .and_then(|p| p.name.as_ref().map(|n| n.name.clone()))
                {
                    self.facts.locals.insert(name.clone());
                    self.pending_results
                        .push((name, start(&walk::strip(rhs).loc())));
                }
                self.expr(e, ctx);
            }
            Statement::VariableDefinition(_, decl, Some(init)) => {
                let name = decl.name.as_ref().map(|n| n.name.clone());
                if let Some(n) = &name
                    && walk::any(init, &walk::is_msg_sender)
                {
                    self.sender_locals.insert(n.clone());
                }
                if walk::low_level(init).is_some()
                    && let Some(n) = &name
                {
                    self.pending_results
                        .push((n.clone(), start(&walk::strip(init).loc())));
                }
                let c = Ctx {
                    assign_target: name,
                    direct: true,
                    ..ctx.clone()
                };
                self.expr(init, &c);
            }
            Statement::Return(_, Some(e)) => {
                let before = self.facts.env.len();
                self.expr(e, ctx);
                for u in &mut self.facts.env[before..] {
                    u.returned = true;
                }
            }
            Statement::Revert(_, _, args) => {
                for a in args {
                    self.expr(a, ctx);
                }
            }
            Statement::Try(_, e, ret, catches) => {
                self.expr(e, ctx);
                if let Some((_, b)) = ret {
                    self.stmt(b, ctx);
                }
                for c in catches {
                    match c {
                        pt::CatchClause::Simple(_, _, b) | pt::CatchClause::Named(_, _, _, b) => {
                            self.stmt(b, ctx)
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn push_loop(&mut self, loc: &pt::Loc, cond: Option<&Expression>) -> usize {
        let over_state = cond.is_some_and(|c| {
            walk::any(c, &|x| {
                matches!(x, Expression::MemberAccess(_, o, id)
                    if id.name == "length" && walk::root_var(o).is_some_and(|r| self.is_state(r)))
            })
        });
        let unbounded = cond.is_some_and(|c| {
            walk::any(c, &|x| {
                matches!(x, Expression::MemberAccess(_, o, id)
                    if id.name == "length" && walk::root_var(o).is_some_and(|r| self.is_state(r)))
                    || matches!(x, Expression::Variable(id) if self.facts.params.contains(&id.name))
            })
        });
        self.facts.loops.push(Loop {
            line: self.lines.of(loc),
            start: start(loc),
            end: end(loc),
            unbounded,
            over_state,
        });
        self.facts.loops.len() - 1
    }
}

/// Whether a branch reverts (`revert()`, a rewritten `throw`, `revert("..")`).
fn reverts(s: &Statement) -> bool {
    let mut hit = false;
    walk::stmts(s, &mut |st| {
        if matches!(st, Statement::Revert(..)) {
            hit = true;
        }
        if let Statement::Expression(_, e) = st
            && matches!(walk::callee_name(e), Some("revert"))
        {
            hit = true;
        }
    });
    hit
}
