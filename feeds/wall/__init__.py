"""What the wall reads on a click: a grid's card, a patrol's trail."""
