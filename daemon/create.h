/*
 * create.h: TYPE.create, the one handler of every type's create row
 * (dispatch.h's DISPATCH_ROW sends it there).
 */
#ifndef MPMGR_CREATE_H
#define MPMGR_CREATE_H

struct req;

/*
 * TYPE.create name [options]: parse the options against the type's table
 * (options.h); create the object explicitly, or, when it exists, answer
 * nil if its options map is the same (and make an implicit one explicit),
 * else EXISTS.
 */
void create_verb(struct req *req);

#endif
