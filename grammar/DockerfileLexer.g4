// Lexer for the Dockerfile language.
//
// The Dockerfile language is line oriented and context sensitive in two
// places, and this lexer (with DockerfileLexerBase) is where both live:
//   * the escape character (`\` by default, or `` ` `` after `# escape=``):
//     the base class decides whether a backslash or backtick before a newline
//     continues the line;
//   * heredoc bodies (`RUN <<EOF` ... `EOF`): whether the lines after an
//     instruction are a body depends on that instruction, so at the end of an
//     instruction line DockerfileLexerBase asks the frontend which heredocs it
//     opens and switches to the HEREDOC mode until their terminators.
//
// Token texts concatenate back to the input exactly; the frontend rebuilds
// each instruction's logical line (continuations joined, comment and blank
// lines inside a continuation dropped) from them.
lexer grammar DockerfileLexer;

options { superClass = DockerfileLexerBase; }

// Set by DockerfileLexerBase on the terminator line of a heredoc body.
tokens { HEREDOC_END, CONTINUATION }

@lexer::header {
#include "frontend/lexer_base.hpp"
}

// ---- DEFAULT mode: the start of a physical line, outside any instruction.

// `# key=value`. onDirective() turns it into a COMMENT when it comes after
// the first instruction or comment, or the key is not a known directive.
// (Not a semantic predicate: a predicate at the start of the DEFAULT mode
// keeps ANTLR from caching that mode's DFA, and every line then paid a full
// ATN closure — 40% of parsing a short Dockerfile.)
DIRECTIVE
    : '#' [ \t\f\u000B]* [a-zA-Z] [a-zA-Z0-9]* [ \t\f\u000B]* '=' ~[\n]* { onDirective(); }
    ;
COMMENT     : '#' ~[\n]* ;
NEWLINE     : '\r'* '\n' ;
LEADING_WS  : [ \t\f\u000B\r]+ ;

// Instruction keywords, in any case. Anything else in keyword position is an
// INSTRUCTION_NAME (reported later as an unknown instruction).
FROM        : F R O M                               -> mode(ARGS) ;
RUN         : R U N                                 -> mode(ARGS) ;
CMD         : C M D                                 -> mode(ARGS) ;
LABEL       : L A B E L                             -> mode(ARGS) ;
MAINTAINER  : M A I N T A I N E R                   -> mode(ARGS) ;
EXPOSE      : E X P O S E                           -> mode(ARGS) ;
ENV         : E N V                                 -> mode(ARGS) ;
ADD         : A D D                                 -> mode(ARGS) ;
COPY        : C O P Y                               -> mode(ARGS) ;
ENTRYPOINT  : E N T R Y P O I N T                   -> mode(ARGS) ;
VOLUME      : V O L U M E                           -> mode(ARGS) ;
USER        : U S E R                               -> mode(ARGS) ;
WORKDIR     : W O R K D I R                         -> mode(ARGS) ;
ARG         : A R G                                 -> mode(ARGS) ;
ONBUILD     : O N B U I L D                         -> mode(ARGS) ;
STOPSIGNAL  : S T O P S I G N A L                   -> mode(ARGS) ;
HEALTHCHECK : H E A L T H C H E C K                 -> mode(ARGS) ;
SHELL       : S H E L L                             -> mode(ARGS) ;

INSTRUCTION_NAME
    : ( ~[ \t\f\u000B\r\n#\\`] | [\\`] ) NameChar*   -> mode(ARGS)
    ;
// An escape character alone on the first line of an instruction.
LEADING_ESCAPE_NEWLINE
    : [\\`] [ \t\f\u000B]* '\r'* '\n'               -> type(ESCAPE_NEWLINE)
    ;

// ---- ARGS mode: the rest of an instruction, up to its unescaped newline.
//
// Which of `\` and `` ` `` is the escape character is decided by
// DockerfileLexerBase, not by predicates here: predicates would keep ANTLR
// from caching the lexer's DFA, and argument text is most of a Dockerfile.
// A backslash or backtick before an ordinary character is plain TEXT either
// way; before a blank, another backslash or backtick, or a newline it is an
// ESCAPE_CHAR or ESCAPE_NEWLINE token that the base class resolves.
mode ARGS;

// `\` + blanks + newline: a CONTINUATION if `\` is the escape character (and
// does not follow another one, as in BuildKit), otherwise text and a NEWLINE.
ESCAPE_NEWLINE : [\\`] [ \t\f\u000B]* '\r'* '\n' ;
TEXT           : ( ~[\\`\r\n] | [\\`] ~[ \t\f\u000B\r\n\\`] )+ ;
ESCAPE_CHAR    : [\\`] ;
CR             : '\r'+ ;
ARGS_NEWLINE   : '\r'* '\n'                         -> type(NEWLINE) ;

// ---- CONT mode: the start of a line after a continuation. Comment lines and
// blank lines here are dropped from the instruction; anything else goes on
// in ARGS mode.
mode CONT;

CONT_COMMENT        : [ \t\f\u000B\r]* '#' ~[\n]* '\n'? ;
CONT_BLANK          : [ \t\f\u000B\r]* '\n' ;
CONT_LEAD           : [ \t\f\u000B]+                -> type(TEXT), mode(ARGS) ;
CONT_ESCAPE_NEWLINE : [\\`] [ \t\f\u000B]* '\r'* '\n' -> type(ESCAPE_NEWLINE) ;
CONT_TEXT
    : ( ~[\\`\r\n \t\f\u000B#] | [\\`] ~[ \t\f\u000B\r\n\\`] )
      ( ~[\\`\r\n] | [\\`] ~[ \t\f\u000B\r\n\\`] )* -> type(TEXT), mode(ARGS)
    ;
CONT_ESCAPE_CHAR    : [\\`]                         -> type(ESCAPE_CHAR), mode(ARGS) ;
CONT_CR             : '\r'+                         -> type(CR), mode(ARGS) ;

// ---- HEREDOC mode: lines of heredoc bodies. DockerfileLexerBase turns the
// terminator line of each body into HEREDOC_END and leaves the mode after the
// last one.
mode HEREDOC;

HEREDOC_LINE : ( ~[\n]+ '\n'? | '\n' ) { onHeredocLine(); } ;

fragment NameChar : ~[ \t\f\u000B\r\n\\`] ;

fragment A : [aA] ; fragment B : [bB] ; fragment C : [cC] ; fragment D : [dD] ;
fragment E : [eE] ; fragment F : [fF] ; fragment G : [gG] ; fragment H : [hH] ;
fragment I : [iI] ; fragment K : [kK] ; fragment L : [lL] ; fragment M : [mM] ;
fragment N : [nN] ; fragment O : [oO] ; fragment P : [pP] ; fragment R : [rR] ;
fragment S : [sS] ; fragment T : [tT] ; fragment U : [uU] ; fragment V : [vV] ;
fragment W : [wW] ; fragment X : [xX] ; fragment Y : [yY] ;
