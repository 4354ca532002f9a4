// Parser for the Dockerfile language: the file as a sequence of parser
// directives, comments, blank lines and instructions, each instruction a
// keyword, its argument text (with continuations and the comment lines
// inside them) and the heredoc bodies that follow it.
//
// Like BuildKit's parser stage, this grammar knows lines, continuations,
// directives and heredocs; what the arguments of each instruction mean
// (flags, exec vs shell form, key=value pairs) is decided per instruction in
// src/frontend/line_parsers.cpp, because those rules depend on the logical
// line as a whole (e.g. invalid JSON falls back to the shell form).
parser grammar DockerfileParser;

options { tokenVocab = DockerfileLexer; }

dockerfile
    : line* EOF
    ;

line
    : LEADING_WS? (directive | comment | instruction | NEWLINE)
    | LEADING_WS    // white space at the end of the file
    ;

directive
    : DIRECTIVE NEWLINE?
    ;

comment
    : COMMENT NEWLINE?
    ;

// Argument tokens are listed inline rather than through a rule of their own:
// a rule context per token would multiply the memory of huge instructions.
instruction
    : keyword (TEXT | CONTINUATION | CONT_COMMENT | CONT_BLANK | ESCAPE_CHAR | CR)*
      NEWLINE? heredocBody*
    ;

keyword
    : FROM | RUN | CMD | LABEL | MAINTAINER | EXPOSE | ENV | ADD | COPY | ENTRYPOINT
    | VOLUME | USER | WORKDIR | ARG | ONBUILD | STOPSIGNAL | HEALTHCHECK | SHELL
    | INSTRUCTION_NAME
    | CONTINUATION  // an escape character alone at the start of an instruction
    ;


// A body ends at its terminator line, or — unterminated — at the end of the
// file (reported by the frontend).
heredocBody
    : HEREDOC_LINE* HEREDOC_END
    | HEREDOC_LINE+
    ;
