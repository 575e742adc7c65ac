"""shendu's own environments (Gymnasium API), registered for ``shendu.rl.make``.

=================  ==========================================================
``GridWorld-v0``   the course's maze (走迷宮): walls, a goal, optional slip
``TicTacToe-v0``   two-player tic-tac-toe (for search and self-play)
``ConnectFour-v0`` two-player Connect-Four, 6 x 7
=================  ==========================================================
"""
from ..env import register

register("GridWorld-v0", "shendu.rl.envs.gridworld:GridWorld")
register("TicTacToe-v0", "shendu.rl.envs.tictactoe:TicTacToe")
register("ConnectFour-v0", "shendu.rl.envs.connect_four:ConnectFour")
